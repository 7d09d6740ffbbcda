import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WebhookAttempt, WebhookDeliveryManager, WebhookEvents, WebhookMessages, WebhookPublisher, type WebhooksModuleOptions, type WebhookSubscriptionDeactivatedEvent, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { gate, type Gate } from '../support/seed-a-fixtures.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * Endpoint health, driven by a FakeClock: the time rule (every try failing for `limits.disableAfterFailingForMs`,
 * 5 days by default), the seed's all-failed rule with retries on (an attempt counts as failed only after its
 * last try; pending attempts block the rule), and cancellation of pending retries when a subscription is
 * deactivated or deleted. Every request goes over real HTTPS to a loopback receiver; only the clock is faked.
 * Runs on every store: memory, and the TypeORM store on SQLite and on PostgreSQL.
 *
 * The background poller is pushed out to `pollIntervalMs: 600_000` (real time) and every retry delay is at
 * least that long, so the queue never arms a wake-up timer: attempts are only claimed when the test calls
 * `processDueAttempts()` after moving the clock, which makes request counts exact.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 1);
const CANCELLED = 'Cancelled because the subscription was deactivated or deleted.';

describe.each(STORES)('endpoint health (FakeClock, %s)', (kind) => {
  let app: INestApplication | undefined;
  let database: TestDatabase | undefined;
  let receiver: TestReceiver;
  let clock: FakeClock;
  /** What the receiver answers; tests flip it to simulate an outage and a recovery. */
  let status: number;
  let deactivations: WebhookSubscriptionDeactivatedEvent[];
  let held: Gate | undefined;

  beforeEach(async () => {
    status = 500;
    deactivations = [];
    held = undefined;
    receiver = await TestReceiver.start({
      responder: async (request, res, req) => {
        if (held) await held.opened;
        await ok(status)(request, res, req);
      },
    });
  });

  afterEach(async () => {
    held?.open();
    await app?.close();
    app = undefined;
    await receiver.close();
    await database?.drop();
    database = undefined;
  });

  async function start(webhooks: WebhooksModuleOptions = {}): Promise<string> {
    clock = new FakeClock(START);
    database = await storeFor(kind);
    app = await createWebhooksApp({
      database,
      webhooks: {
        ...webhooks,
        delivery: { retryJitter: 0, pollIntervalMs: 10 * MINUTE, ...webhooks.delivery },
      },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
    app.get(EventEmitter2).on(WebhookEvents.SubscriptionDeactivated, (event: WebhookSubscriptionDeactivatedEvent) => deactivations.push(event));
    const { subscription } = await subscriptions().create({ url: `${receiver.url}/health`, events: ['health.*'] });
    return subscription.id;
  }

  const subscriptions = () => app!.get(WebhookSubscriptionManager);
  const delivery = () => app!.get(WebhookDeliveryManager);

  /** Publishes one event and waits until its first try is recorded. */
  async function publish(n: number): Promise<WebhookAttempt[]> {
    const attempts = await app!.get(WebhookPublisher).publish('health.ping', { n });
    await delivery().waitForPendingDeliveries();
    return attempts;
  }

  /** Moves the clock, claims what fell due, and waits until those tries are recorded. */
  async function advance(ms: number): Promise<number> {
    clock.advance(ms);
    const claimed = await delivery().processDueAttempts();
    await delivery().waitForPendingDeliveries();
    return claimed;
  }

  const subscription = async (id: string) => (await subscriptions().get(id))!;
  const attemptsOf = async (id: string) => (await delivery().listAttempts(id)).reverse();

  describe('the time rule (limits.disableAfterFailingForMs, default 5 days)', () => {
    it('deactivates with reason failing-too-long once every try has failed for 5 days, and emits the event exactly once', async () => {
      // Tries at 0, 1 d, 2 d, 3 d, 4 d, 4 d 23 h, 5 d (and one more at 6 d that must never happen).
      const id = await start({ delivery: { retrySchedule: [DAY, DAY, DAY, DAY, 23 * HOUR, HOUR, DAY] } });

      const [attempt] = await publish(1);
      expect(receiver.requests).toHaveLength(1);
      expect((await subscription(id)).failingSince).toEqual(new Date(START));

      for (const step of [DAY, DAY, DAY, DAY, 23 * HOUR]) {
        expect(await advance(step)).toBe(1);
        expect(await subscription(id)).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active, failingSince: new Date(START) });
      }
      // 4 days 23 hours of failures: one hour short of the window, still active.
      expect(receiver.requests).toHaveLength(6);
      expect(deactivations).toEqual([]);

      expect(await advance(HOUR)).toBe(1);
      expect(receiver.requests).toHaveLength(7);
      expect(await subscription(id)).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.FailingTooLong });
      expect(deactivations).toHaveLength(1);
      expect(deactivations[0]!.reason).toBe('failing-too-long');
      expect(deactivations[0]!.subscription).toMatchObject({ id, active: false, statusMessage: WebhookMessages.subscription.FailingTooLong });

      // The attempt's remaining retry was cancelled with the deactivation: nothing is sent any more.
      expect(await delivery().getAttempt(attempt!.id)).toMatchObject({ status: 'failed', message: CANCELLED, tries: 7, nextAttemptAt: null });
      expect(await advance(DAY)).toBe(0);
      expect(await advance(7 * DAY)).toBe(0);
      expect(await publish(2)).toEqual([]);
      expect(receiver.requests).toHaveLength(7);
      expect(deactivations).toHaveLength(1);
    });

    it('a success in between resets the window (failingSince back to null); the 5 days count from the next failure', async () => {
      const id = await start({ delivery: { retrySchedule: [] } });

      await publish(1); // fails at START
      expect((await subscription(id)).failingSince).toEqual(new Date(START));
      clock.advance(4 * DAY);
      await publish(2); // fails at 4 d
      expect((await subscription(id)).failingSince).toEqual(new Date(START));

      status = 200;
      clock.advance(HOUR);
      await publish(3); // succeeds at 4 d 1 h
      expect(await attemptsOf(id).then((a) => a.map((x) => x.status))).toEqual(['failed', 'failed', 'successful']);
      expect((await subscription(id)).failingSince).toBeNull();

      status = 503;
      clock.advance(HOUR);
      const restartedAt = clock.now();
      await publish(4); // fails at 4 d 2 h: a new window starts here
      expect((await subscription(id)).failingSince).toEqual(restartedAt);

      clock.set(START + 5 * DAY + HOUR);
      await publish(5); // 5 d 1 h after the first failure, but only 23 h into the new window
      expect(await subscription(id)).toMatchObject({ active: true, failingSince: restartedAt });

      clock.set(restartedAt.getTime() + 5 * DAY - MINUTE);
      await publish(6);
      expect((await subscription(id)).active).toBe(true);
      expect(deactivations).toEqual([]);

      clock.set(restartedAt.getTime() + 5 * DAY);
      await publish(7);
      expect(await subscription(id)).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.FailingTooLong });
      expect(deactivations.map((d) => d.reason)).toEqual(['failing-too-long']);
      expect(receiver.requests).toHaveLength(7);
    });
  });

  describe("the seed's 50-failures rule with retries on (limits.attemptLimit: 50)", () => {
    const withRetries: WebhooksModuleOptions = { limits: { attemptLimit: 50 }, delivery: { retrySchedule: [HOUR] } };

    it('an attempt counts as failed only after its last try; 50 exhausted attempts deactivate with reason delivery-failures, event once', async () => {
      const id = await start(withRetries);
      for (let n = 1; n <= 50; n++) await publish(n);

      // 50 failed first tries, but every attempt still has a retry left: nothing has failed yet.
      expect(receiver.requests).toHaveLength(50);
      const afterFirstTries = await attemptsOf(id);
      expect(afterFirstTries).toHaveLength(50);
      for (const attempt of afterFirstTries) expect(attempt).toMatchObject({ status: 'pending', tries: 1, nextAttemptAt: new Date(START + HOUR) });
      expect(await subscription(id)).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });
      expect(deactivations).toEqual([]);

      expect(await advance(HOUR)).toBe(50);
      expect(receiver.requests).toHaveLength(100);
      const exhausted = await attemptsOf(id);
      expect(exhausted).toHaveLength(50);
      for (const attempt of exhausted) expect(attempt).toMatchObject({ status: 'failed', tries: 2, message: '500 Internal Server Error' });
      expect(await subscription(id)).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.TooManyDeliveryFailures });
      expect(WebhookMessages.subscription.TooManyDeliveryFailures).toBe('Delivery suspended due to too many delivery failures.');
      expect(deactivations).toHaveLength(1);
      expect(deactivations[0]).toMatchObject({ reason: 'delivery-failures', subscription: { id, active: false } });

      // Suspended: later events create nothing and reach nobody.
      expect(await publish(51)).toEqual([]);
      await advance(DAY);
      expect(receiver.requests).toHaveLength(100);
      expect(deactivations).toHaveLength(1);
    });

    it('a pending attempt blocks the rule (seed caveat): 50 exhausted attempts plus one still retrying stay active until it fails too', async () => {
      const id = await start(withRetries);
      for (let n = 1; n <= 50; n++) await publish(n); // first tries fail at START, retries due at START + 1 h
      clock.advance(30 * MINUTE);
      const [late] = await publish(51); // first try fails at 30 min, retry due at 1 h 30 min
      expect(receiver.requests).toHaveLength(51);

      expect(await advance(30 * MINUTE)).toBe(50); // the 50 early attempts exhaust their tries
      expect(receiver.requests).toHaveLength(101);
      const history = await attemptsOf(id);
      // History limit 50: the oldest resolved attempt was pruned; the late one is still pending.
      expect(history).toHaveLength(50);
      expect(history.filter((a) => a.status === 'failed')).toHaveLength(49);
      expect(history.filter((a) => a.status === 'pending').map((a) => a.id)).toEqual([late!.id]);
      expect(await subscription(id)).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });
      expect(deactivations).toEqual([]);

      expect(await advance(30 * MINUTE)).toBe(1); // the late attempt's last try fails: now all 50 stored attempts failed
      expect(receiver.requests).toHaveLength(102);
      expect((await attemptsOf(id)).every((a) => a.status === 'failed')).toBe(true);
      expect(await subscription(id)).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.TooManyDeliveryFailures });
      expect(deactivations.map((d) => d.reason)).toEqual(['delivery-failures']);
    });
  });

  describe('deactivating or deleting cancels pending retries', () => {
    it('deactivate(): the scheduled retry is cancelled and never sent', async () => {
      const id = await start({ delivery: { retrySchedule: [HOUR, HOUR] } });
      const [attempt] = await publish(1);
      expect(await delivery().getAttempt(attempt!.id)).toMatchObject({ status: 'pending', tries: 1 });

      expect(await subscriptions().deactivate(id)).toBe(true);
      expect(await delivery().getAttempt(attempt!.id)).toMatchObject({ status: 'failed', message: CANCELLED, nextAttemptAt: null });
      expect(deactivations.map((d) => d.reason)).toEqual(['manual']);

      expect(await advance(HOUR)).toBe(0);
      expect(await advance(DAY)).toBe(0);
      expect(receiver.requests).toHaveLength(1);
      expect(await delivery().getAttempt(attempt!.id)).toMatchObject({ status: 'failed', message: CANCELLED, tries: 1 });
    });

    it('delete(): the scheduled retry is cancelled with the subscription and never sent', async () => {
      const id = await start({ delivery: { retrySchedule: [HOUR, HOUR] } });
      const [attempt] = await publish(1);
      expect(await delivery().getAttempt(attempt!.id)).toMatchObject({ status: 'pending', tries: 1 });

      expect(await subscriptions().delete(id)).toBe(true);
      const left = await delivery().getAttempt(attempt!.id);
      expect(left === null || left.status === 'failed').toBe(true);

      expect(await advance(HOUR)).toBe(0);
      expect(await advance(DAY)).toBe(0);
      expect(receiver.requests).toHaveLength(1);
    });

    it.each(['deactivate', 'delete'] as const)('%s(): attempts already claimed and waiting in memory for a slot are not sent', async (action) => {
      const id = await start({ delivery: { retrySchedule: [HOUR], perEndpointConcurrency: 1 } });
      status = 200;
      held = gate();
      await app!.get(WebhookPublisher).publish('health.ping', { n: 1 });
      await app!.get(WebhookPublisher).publish('health.ping', { n: 2 });
      await receiver.waitForRequests(1);
      // One request in flight (held by the receiver), the second attempt waits for the endpoint's only slot.
      expect(delivery().stats).toMatchObject({ active: 1, queued: 1 });

      if (action === 'deactivate') expect(await subscriptions().deactivate(id)).toBe(true);
      else expect(await subscriptions().delete(id)).toBe(true);
      held.open();
      await delivery().waitForPendingDeliveries();
      expect(await advance(HOUR)).toBe(0);

      expect(receiver.requests).toHaveLength(1);
      expect(JSON.parse(receiver.requests[0]!.body).data).toEqual({ n: 1 });
    });
  });
});
