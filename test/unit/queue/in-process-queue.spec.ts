import { afterEach, describe, expect, it } from 'vitest';
import type { WebhookAttempt } from 'nest-webhooks';
import type { ResolvedWebhooksOptions, WebhookDeliveryConsumer } from 'nest-webhooks/extensions';
import { InProcessDeliveryQueue } from '../../../libs/webhooks/src/send/queue/in-process-delivery.queue.js';
import { MemoryWebhookStore } from '../../../libs/webhooks/src/storage/memory/memory-webhook.store.js';
import type { ClaimOptions } from '../../../libs/webhooks/src/storage/webhook-store.js';
import type { SubscriptionRegistry } from '../../../libs/webhooks/src/subscriptions/subscription-registry.js';
import { pendingAttempt } from '../../support/attempts.js';
import { FakeClock } from '../../support/fake-clock.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SUBSCRIPTION = 'sub_1';
/** A second subscription, on an endpoint of its own. */
const DEAD = 'dead';

/**
 * The memory store with claims that take `delayMs` (a database under load): waiting before they read, or reading at
 * once and answering later, as a round trip does. Counts claims, and how many ran at once.
 */
class SlowClaimsStore extends MemoryWebhookStore {
  claims = 0;
  running = 0;
  mostAtOnce = 0;
  /** Runs once, inside the next claim, after it read. */
  duringNextClaim: (() => void) | null = null;

  constructor(
    readonly slow: 'before-reading' | 'after-reading' | 'no',
    private readonly delayMs = 100,
  ) {
    super();
  }

  override async claimDue(workerId: string, now: Date, leaseUntil: Date, limit: number, options?: ClaimOptions): Promise<WebhookAttempt[]> {
    this.claims++;
    this.mostAtOnce = Math.max(this.mostAtOnce, ++this.running);
    try {
      if (this.slow === 'before-reading') await sleep(this.delayMs);
      const claimed = await super.claimDue(workerId, now, leaseUntil, limit, options);
      const during = this.duringNextClaim;
      this.duringNextClaim = null;
      during?.();
      if (this.slow === 'after-reading') await sleep(this.delayMs);
      return claimed;
    } finally {
      this.running--;
    }
  }
}

/** A consumer that holds every attempt until told to finish it (`finish(n)`: the oldest n), or all from `open()` on. */
function heldConsumer() {
  const sent: number[] = [];
  const waiting: Array<() => void> = [];
  let opened = false;
  const consume: WebhookDeliveryConsumer = (attempt, signal, requestDone) => {
    if (attempt.subscriptionId !== DEAD) sent.push((JSON.parse(attempt.payload) as { i: number }).i);
    return new Promise((resolve) => {
      const finish = () => {
        requestDone?.();
        resolve({ ...attempt, status: 'successful', nextAttemptAt: null });
      };
      // A dead endpoint never answers: its request ends when the queue aborts it at shutdown.
      if (attempt.subscriptionId === DEAD) signal.addEventListener('abort', finish, { once: true });
      else if (opened) finish();
      else waiting.push(finish);
    });
  };
  return {
    consume,
    sent,
    finish: (count: number) => waiting.splice(0, count).forEach((finish) => finish()),
    open: () => {
      opened = true;
      waiting.splice(0).forEach((finish) => finish());
    },
    async sentAtLeast(count: number) {
      for (let waited = 0; sent.length < count; waited += 5) {
        if (waited > 10_000) throw new Error(`${sent.length} of ${count} sent`);
        await sleep(5);
      }
    },
  };
}

const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

/** One request at a time per endpoint (`concurrency` in all) and lines of 4; polls only when asked (the interval is ten minutes). */
function queueOn(store: MemoryWebhookStore, clock: FakeClock, concurrency: number) {
  const options = {
    delivery: { concurrency, perEndpointConcurrency: 1, maxQueuedAttempts: 8, pollIntervalMs: 600_000, leaseMs: 60_000 },
  } as ResolvedWebhooksOptions;
  const subscriptions = new Map([SUBSCRIPTION, DEAD].map((id) => [id, { id, url: `https://${id}.test/hook` }]));
  const registry = { fence: () => undefined, active: (id: string) => subscriptions.get(id), inactiveStaticIds: () => [] };
  return new InProcessDeliveryQueue(options, store, registry as unknown as SubscriptionRegistry, clock);
}

const events = (clock: FakeClock, from: number, count: number, subscriptionId = SUBSCRIPTION) =>
  Array.from({ length: count }, (_, k) => pendingAttempt(clock.now(), { subscriptionId, payload: JSON.stringify({ i: from + k }) }));

describe('InProcessDeliveryQueue', () => {
  let queue: InProcessDeliveryQueue | undefined;
  afterEach(async () => {
    await queue?.stop(100);
    queue = undefined;
  });

  /** A queue on a store whose claims are slowed as given, started with a held consumer (nothing claimed yet). */
  function started(slow: SlowClaimsStore['slow'], delayMs?: number, concurrency = 1) {
    const clock = new FakeClock();
    const store = new SlowClaimsStore(slow, delayMs);
    const consumer = heldConsumer();
    queue = queueOn(store, clock, concurrency);
    queue.start(consumer.consume);
    return { clock, store, consumer };
  }

  /** Publishes like the dispatcher: writes leased to this worker, then hands them to the queue. */
  async function publish(store: MemoryWebhookStore, clock: FakeClock, attempts: WebhookAttempt[]) {
    const written = await store.insertAttempts(attempts, {}, { workerId: queue!.workerId, leaseUntil: new Date(clock.now().getTime() + 60_000) });
    queue!.push(written);
  }

  /** Publishes 7 events through a line of 4 (1 in flight, 4 waiting, 2 handed back), then lets one finish. */
  async function overflowAndFinishOne(store: MemoryWebhookStore, clock: FakeClock, consumer: ReturnType<typeof heldConsumer>) {
    await publish(store, clock, events(clock, 0, 7));
    await consumer.sentAtLeast(1);
    consumer.finish(1);
    await consumer.sentAtLeast(2);
  }

  describe('claims', () => {
    it('run one at a time', async () => {
      const { clock, store, consumer } = started('after-reading', 50);
      await store.insertAttempts(events(clock, 0, 12));
      queue!.wake(clock.now());
      await Promise.all([queue!.processDue(), queue!.processDue(), queue!.processDue()]);
      consumer.open();
      await consumer.sentAtLeast(12);

      expect(store.mostAtOnce).toBe(1);
      expect(consumer.sent).toEqual(upTo(12));
    });
  });

  describe('claims that leave a full endpoint out', () => {
    it('a claim put off by the spacing of claims that leave a full endpoint out runs when it may', async () => {
      // Four requests at a time: the dead endpoint's holds one slot, not all.
      const { clock, store, consumer } = started('after-reading', 100, 4);
      consumer.open();
      await publish(store, clock, events(clock, 0, 5, DEAD)); // 1 in flight and a full line of 4
      await queue!.processDue(); // a claim that leaves the dead endpoint out

      await store.insertAttempts(events(clock, 0, 3));
      const claimsBefore = store.claims;
      await queue!.processDue(); // put off: too soon after the last one
      expect(store.claims).toBe(claimsBefore);

      await consumer.sentAtLeast(3);
      expect(consumer.sent).toEqual(upTo(3));
    });
  });

  describe('overflow handed back to the store', () => {
    it('is claimed back when a slow claim that left it out ends', async () => {
      const { clock, store, consumer } = started('before-reading');
      await publish(store, clock, events(clock, 0, 20));
      await consumer.sentAtLeast(1);

      // A poll for another reason (a retry falling due) while the line is full leaves the endpoint out; the line
      // drains while that claim runs.
      const before = store.claims;
      queue!.wake(clock.now());
      while (store.claims === before) await sleep(1);
      consumer.open();

      await consumer.sentAtLeast(20);
      expect(consumer.sent).toEqual(upTo(20));
    });

    it('handed back during the catch-up claim is not stranded', async () => {
      const { clock, store, consumer } = started('after-reading');
      await overflowAndFinishOne(store, clock, consumer);

      const before = store.claims;
      consumer.finish(1); // the line is half empty: a claim starts
      while (store.claims === before) await sleep(1);
      await publish(store, clock, events(clock, 7, 1)); // handed back while that claim runs
      // The claim after it finds the line full again and leaves the endpoint out; then the line drains.
      while (store.claims < before + 2) await sleep(1);
      await sleep(200);
      consumer.open();

      await consumer.sentAtLeast(8);
      expect(consumer.sent).toEqual(upTo(8));
    });

    it('accepted in the same turn as the catch-up claim is not stranded', async () => {
      const { clock, store, consumer } = started('no');
      // The eighth event, committed and leased to this process, as a publisher leaves it before handing it over.
      const [eighth] = await store.insertAttempts(events(clock, 7, 1), {}, { workerId: queue!.workerId, leaseUntil: new Date(clock.now().getTime() + 60_000) });
      await overflowAndFinishOne(store, clock, consumer);

      store.duringNextClaim = () => queue!.push([eighth!]);
      consumer.finish(1);
      while (store.duringNextClaim) await sleep(1);
      consumer.open();

      await consumer.sentAtLeast(8);
      expect([...consumer.sent].sort((a, b) => a - b)).toEqual(upTo(8));
    });
  });
});
