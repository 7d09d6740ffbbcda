import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock, WebhookDeliveryQueue, WebhookStore } from 'nest-webhooks/extensions';
import { pendingAttempt } from '../support/attempts.js';
import { TestReceiver } from '../support/receiver.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * A burst longer than the in-process queue: what does not fit is handed back to the store. It must come back
 * as soon as there is room (here the poll interval is ten minutes, so nothing else would bring it back within
 * the test), and in the order it was published: an endpoint's new attempts must not overtake the older ones
 * waiting in the store.
 *
 * Runs on every store (memory, and the TypeORM store on SQLite and on PostgreSQL). The tests that slow the memory
 * store's claims down by hand (to stand in for a database under load) run on the memory store only; the ones about
 * a store's commits and claims racing with hand-backs run on the databases only.
 */

const EVENTS = 60;
/** One request at a time and a line of 4 (`maxQueuedAttempts` 8: a quarter per endpoint, at least 4 × 1). */
const DELIVERY = { concurrency: 1, perEndpointConcurrency: 1, maxQueuedAttempts: 8, pollIntervalMs: 600_000 } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A receiver that holds every request until told to answer it (`answer(n)`: the oldest n), or all of them from `open()` on. */
async function heldReceiver() {
  const held: Array<() => void> = [];
  let opened = false;
  const receiver = await TestReceiver.start({
    responder: (_request, res) => {
      const answer = () => void res.writeHead(200).end();
      if (opened) answer();
      else held.push(answer);
    },
  });
  return {
    receiver,
    answer: (count: number) => held.splice(0, count).forEach((answer) => answer()),
    open: () => {
      opened = true;
      held.splice(0).forEach((answer) => answer());
    },
  };
}

describe.each(STORES)('queue overflow: attempts handed back to the store (%s)', (kind) => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  /** A second receiver (a dead endpoint), where a test needs one. */
  let other: TestReceiver | undefined;
  const databases: TestDatabase[] = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const server of [receiver, other]) await server?.close();
    receiver = other = undefined;
    for (const database of databases.splice(0)) await database.drop();
  });

  /** An app on this suite's store (a fresh database for the TypeORM store) with these delivery options. */
  async function startApp(delivery: NonNullable<WebhooksModuleOptions['delivery']>): Promise<INestApplication> {
    const database = await storeFor(kind);
    if (database) databases.push(database);
    return createWebhooksApp({ database, webhooks: { delivery } });
  }

  it(`a burst of ${EVENTS} through a line of 4 is delivered without waiting for a poll, and no later event overtakes it`, async () => {
    const held = await heldReceiver();
    receiver = held.receiver;
    app = await startApp(DELIVERY);
    await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['burst.*'] });
    const publisher = app.get(WebhookPublisher);
    const delivery = app.get(WebhookDeliveryManager);

    for (let i = 0; i < EVENTS; i++) await publisher.publish('burst.event', { i });
    // The first request is held at the receiver; at most the line waits in memory, the rest is in the store.
    await receiver.waitForRequests(1);
    expect(delivery.stats.active + delivery.stats.queued).toBeLessThanOrEqual(1 + 4);

    // One answer: the next request starts and the line has room for one. A new event now must still go behind
    // the older ones waiting in the store.
    held.answer(1);
    await receiver.waitForRequests(2);
    await publisher.publish('burst.event', { i: EVENTS });

    held.open();
    await receiver.waitForRequests(EVENTS + 1, 20_000);
    await delivery.waitForPendingDeliveries(20_000);

    const order = receiver.requests.map((request) => (JSON.parse(request.body) as { data: { i: number } }).data.i);
    expect(order).toEqual(Array.from({ length: EVENTS + 1 }, (_, i) => i));
    expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(EVENTS + 1);
  });

  const order = (requests: ReadonlyArray<{ body: string }>) => requests.map((request) => (JSON.parse(request.body) as { data: { i: number } }).data.i);
  const upTo = (count: number) => Array.from({ length: count }, (_, i) => i);

  it('a backlog the poller finds in the store (not handed over by a publisher) is worked off at once, and no later event overtakes it', async () => {
    const held = await heldReceiver();
    receiver = held.receiver;
    app = await startApp(DELIVERY);
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['burst.*'] });
    // Left by a process that only publishes (`worker: false`), or retries falling due together.
    const now = app.get(WebhookClock).now();
    const backlog = Array.from({ length: EVENTS }, (_, i) => pendingAttempt(now, { subscriptionId: subscription.id, payload: JSON.stringify({ data: { i } }) }));
    await app.get(WebhookStore).insertAttempts(backlog);
    const delivery = app.get(WebhookDeliveryManager);
    await delivery.processDueAttempts();

    await receiver.waitForRequests(1);
    held.answer(1);
    await receiver.waitForRequests(2);
    await app.get(WebhookPublisher).publish('burst.event', { i: EVENTS });
    held.open();
    await receiver.waitForRequests(EVENTS + 1, 20_000);

    expect(order(receiver.requests)).toEqual(upTo(EVENTS + 1));
  });

  /** An app with a dead endpoint (accepts, never answers) for `dead.*` and a healthy one for `healthy.*`. */
  async function startWithDeadEndpoint(delivery: NonNullable<WebhooksModuleOptions['delivery']>) {
    const dead = (other = await TestReceiver.start({ responder: () => undefined }));
    receiver = await TestReceiver.start();
    app = await startApp({ concurrency: 4, timeoutMs: 30_000, shutdownTimeoutMs: 100, ...delivery });
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription: deadSub } = await subscriptions.create({ url: `${dead.url}/dead`, events: ['dead.*'] });
    const { subscription: healthySub } = await subscriptions.create({ url: `${receiver.url}/healthy`, events: ['healthy.*'] });
    return { dead, deadSub, healthySub, healthy: receiver, publisher: app.get(WebhookPublisher) };
  }

  it("a healthy endpoint's overflow comes back while a dead endpoint holds its line and little room is left in the queue", async () => {
    // A line of 8 per endpoint (4 × 2) in a queue of 10: with the dead line full, 2 places are left for the healthy one.
    const { dead, healthy, publisher } = await startWithDeadEndpoint({ perEndpointConcurrency: 2, maxQueuedAttempts: 10, pollIntervalMs: 600_000 });
    for (let i = 0; i < 12; i++) await publisher.publish('dead.ping', { i });
    await dead.waitForRequests(2);
    await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish('healthy.ping', { i })));

    await healthy.waitForRequests(20, 20_000);
    // Two requests at a time: they may arrive in either order, but each event exactly once.
    expect(order(healthy.requests).sort((a, b) => a - b)).toEqual(upTo(20));
  });

  /** Publishes 7 events through a line of 4 (1 in flight, 4 waiting, 2 handed back), then lets 2 requests finish. */
  async function overflowAndDrainTwo(held: Awaited<ReturnType<typeof heldReceiver>>, publisher: WebhookPublisher) {
    for (let i = 0; i < 7; i++) await publisher.publish('burst.event', { i });
    await held.receiver.waitForRequests(1);
    held.answer(1);
    await held.receiver.waitForRequests(2);
  }

  // The claim internals on a slowed store are unit tests (test/unit/queue); this one needs a database's commits.
  // A database store: the release of a handed-over attempt commits after the claim that runs in the same turn.
  if (kind !== 'memory') it('an event accepted in the same turn as the catch-up claim (its release commits after the claim) is not stranded', async () => {
    const held = await heldReceiver();
    receiver = held.receiver;
    app = await startApp(DELIVERY);
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['burst.*'] });
    const store = app.get(WebhookStore);
    const queue = app.get(WebhookDeliveryQueue);
    // The eighth event, committed and leased to this process, as a publisher leaves it before handing it over.
    const now = app.get(WebhookClock).now();
    const [eighth] = await store.insertAttempts([pendingAttempt(now, { subscriptionId: subscription.id, payload: JSON.stringify({ data: { i: 7 } }) })], {}, {
      workerId: queue.workerId,
      leaseUntil: new Date(now.getTime() + 60_000),
    });
    const claimDue = store.claimDue.bind(store);
    let handOverWithNextClaim = false;
    store.claimDue = (...args) => {
      const claimed = claimDue(...args);
      if (handOverWithNextClaim) {
        handOverWithNextClaim = false;
        queue.push([eighth!]);
      }
      return claimed;
    };
    await overflowAndDrainTwo(held, app.get(WebhookPublisher));
    handOverWithNextClaim = true;
    held.answer(1);
    while (handOverWithNextClaim) await sleep(1);
    held.open();

    await receiver.waitForRequests(8, 20_000);
    expect(order(receiver.requests).sort((a, b) => a - b)).toEqual(upTo(8));
  });

  // A claim refused for a full line stops claiming (the next claim would walk the dead endpoint's whole due
  // backlog on SQLite): what is behind it waits for the next poll, here 300 ms; it must not wait for more.
  it("a claim refused for a dead endpoint's full line leaves a healthy endpoint's due attempts behind it to the next poll, not longer", async () => {
    const { deadSub, healthySub, healthy } = await startWithDeadEndpoint({ perEndpointConcurrency: 1, maxQueuedAttempts: 12, pollIntervalMs: 300 });
    await sleep(100); // the poll at start-up has run
    // Left in the store (by a process that only publishes, or retries falling due together): the dead endpoint's are older.
    const now = app!.get(WebhookClock).now().getTime();
    await app!.get(WebhookStore).insertAttempts([
      ...Array.from({ length: 20 }, (_, i) => pendingAttempt(new Date(now - 10_000 + i), { subscriptionId: deadSub.id })),
      ...Array.from({ length: 3 }, (_, i) => pendingAttempt(new Date(now - 1_000 + i), { subscriptionId: healthySub.id, payload: JSON.stringify({ data: { i } }) })),
    ]);
    await app!.get(WebhookDeliveryManager).processDueAttempts();

    await healthy.waitForRequests(3, 20_000);
    expect(order(healthy.requests)).toEqual(upTo(3));
  });

  // A database store: every hand-back there is a write that commits later, and used to ask for a claim.
  if (kind !== 'memory') it('steady traffic to a dead endpoint whose line is full does not keep the poller claiming', async () => {
    const dead = (other = await TestReceiver.start({ responder: () => undefined }));
    app = await startApp({ concurrency: 4, perEndpointConcurrency: 2, maxQueuedAttempts: 40, pollIntervalMs: 600_000, timeoutMs: 30_000, shutdownTimeoutMs: 100 });
    await app.get(WebhookSubscriptionManager).create({ url: `${dead.url}/dead`, events: ['dead.*'] });
    const store = app.get(WebhookStore);
    const claimDue = store.claimDue.bind(store);
    let claims = 0;
    store.claimDue = (...args) => {
      claims++;
      return claimDue(...args);
    };
    const publisher = app.get(WebhookPublisher);
    for (let i = 0; i < 12; i++) await publisher.publish('dead.ping', { i }); // 2 in flight, a full line of 10
    await dead.waitForRequests(2);

    const before = claims;
    let published = 0;
    const traffic = (async () => {
      // One event per event-loop turn, each handed back (the line is full).
      while (published < 2000) {
        void publisher.publish('dead.ping', { i: 12 + published++ });
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await sleep(50);
    app.get(WebhookDeliveryQueue).wake(app.get(WebhookClock).now()); // one poll, as a retry falling due asks for
    await traffic;
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries(100).catch(() => undefined);

    // The one poll and claims spaced in time (at most a fifth of it), not one per hand-back: back to back, that was
    // one claim per turn (about 2,000 here). How many fit in the spacing depends on the machine's speed.
    expect(claims - before).toBeLessThan(published / 20);
  });

  it('a retry that falls due while its endpoint line is full is sent once the line has room, not at the next poll', async () => {
    const held = await heldReceiver();
    receiver = held.receiver;
    app = await startApp(DELIVERY);
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['burst.*'] });
    const publisher = app.get(WebhookPublisher);
    for (let i = 0; i < 5; i++) await publisher.publish('burst.event', { i }); // 1 in flight and a full line of 4
    await receiver.waitForRequests(1);
    const now = app.get(WebhookClock).now();
    await app.get(WebhookStore).insertAttempts([pendingAttempt(now, { subscriptionId: subscription.id, payload: JSON.stringify({ data: { i: 5 } }) })]);
    app.get(WebhookDeliveryQueue).wake(now); // its wake-up: the claim leaves the full endpoint out
    await sleep(50);
    held.open();

    await receiver.waitForRequests(6, 20_000);
    expect(order(receiver.requests)).toEqual(upTo(6));
  });
});
