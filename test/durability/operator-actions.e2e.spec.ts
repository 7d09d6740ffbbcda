import type { INestApplication } from '@nestjs/common';
import { Webhook } from 'standardwebhooks';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WebhookAttempt, WebhookAttemptNotFoundError, WebhookDeliveryManager, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager, WebhookSubscriptionOperationError } from 'nest-webhooks';
import { WebhookClock } from 'nest-webhooks/extensions';
import { WebhookAttemptEntity } from 'nest-webhooks/typeorm';
import { FakeClock } from '../support/fake-clock.js';
import { ok, TestReceiver } from '../support/receiver.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * Operator actions: `redeliver(attemptId)`, `recoverFailedAttempts(subscriptionId, since)`, and idempotency keys
 * on `WebhookPublisher.publish`, on every store (memory, and the TypeORM store on SQLite and on PostgreSQL). The
 * TypeORM store's own checks (a key kept across a restart, inside a transaction) run on the databases only.
 * Requests go over real HTTPS to a loopback receiver; only the clock is faked (in the recovery test).
 */

const MINUTE = 60_000;
const START = Date.UTC(2026, 0, 1);
const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;

const dataOf = (body: string) => (JSON.parse(body) as { data: unknown }).data;

describe.each(STORES)('operator actions (%s)', (kind) => {
  let app: INestApplication | undefined;
  /** The database of this test (none on the memory store). */
  let database: TestDatabase | undefined;
  let receiver: TestReceiver;
  /** What the receiver answers; flipped to simulate an outage. */
  let status: number;

  beforeEach(async () => {
    status = 200;
    receiver = await TestReceiver.start({ responder: (request, res, req) => ok(status)(request, res, req) });
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await receiver.close();
    await database?.drop();
    database = undefined;
  });

  async function start(webhooks: WebhooksModuleOptions = {}, clock?: FakeClock): Promise<string> {
    database = await storeFor(kind);
    app = await createWebhooksApp({
      database,
      webhooks: { ...webhooks, delivery: { retrySchedule: [], ...webhooks.delivery } },
      overrides: clock ? [{ provide: WebhookClock, useValue: clock }] : [],
    });
    const { subscription } = await subscriptions().create({ url: `${receiver.url}/ops`, events: ['order.*'], secret: SECRET });
    return subscription.id;
  }

  const subscriptions = () => app!.get(WebhookSubscriptionManager);
  const delivery = () => app!.get(WebhookDeliveryManager);

  async function publish(payload: unknown, options: { idempotencyKey?: string } = {}): Promise<WebhookAttempt[]> {
    const attempts = await app!.get(WebhookPublisher).publish('order.created', payload, options);
    await delivery().waitForPendingDeliveries();
    return attempts;
  }

  describe('redeliver(attemptId)', () => {
    it.each([
      ['a failed attempt', 500, 'failed'],
      ['a successful attempt', 200, 'successful'],
    ] as const)('re-sends %s as a new attempt with the same webhook-id and body and a valid signature', async (_label, firstStatus, firstOutcome) => {
      const id = await start();
      status = firstStatus;
      const [original] = await publish({ order: 1 });
      expect(await delivery().getAttempt(original!.id)).toMatchObject({ status: firstOutcome });
      expect(receiver.requests).toHaveLength(1);

      status = 200;
      const again = await delivery().redeliver(original!.id);
      expect(again.id).not.toBe(original!.id);
      expect(again).toMatchObject({ subscriptionId: id, webhookId: original!.webhookId, payload: original!.payload, status: 'pending', tries: 0 });
      await delivery().waitForPendingDeliveries();

      expect(receiver.requests).toHaveLength(2);
      const [first, second] = receiver.requests;
      expect(second!.headers['webhook-id']).toBe(first!.headers['webhook-id']);
      expect(second!.headers['webhook-id']).toBe(original!.webhookId);
      expect(second!.body).toBe(first!.body);
      expect(() => new Webhook(SECRET).verify(second!.body, second!.headers)).not.toThrow();

      expect(await delivery().getAttempt(again.id)).toMatchObject({ status: 'successful', tries: 1, webhookId: original!.webhookId });
      // The original keeps its own outcome; the history now holds both.
      expect(await delivery().getAttempt(original!.id)).toMatchObject({ status: firstOutcome, tries: 1 });
      expect((await delivery().listAttempts(id)).map((a) => a.id)).toEqual([again.id, original!.id]);
    });

    it('refuses an inactive subscription with WebhookSubscriptionOperationError (nothing stored, nothing sent); works again after activation', async () => {
      const id = await start();
      const [original] = await publish({ order: 1 });
      await subscriptions().deactivate(id);

      await expect(delivery().redeliver(original!.id)).rejects.toBeInstanceOf(WebhookSubscriptionOperationError);
      await delivery().waitForPendingDeliveries();
      expect(await delivery().listAttempts(id)).toHaveLength(1);
      expect(receiver.requests).toHaveLength(1);

      await subscriptions().activate(id);
      await delivery().redeliver(original!.id);
      await delivery().waitForPendingDeliveries();
      expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([original!.webhookId, original!.webhookId]);
    });

    it('an unknown attempt id is WebhookAttemptNotFoundError', async () => {
      await start();
      await expect(delivery().redeliver('0190a0b0-0000-7000-8000-000000000000')).rejects.toBeInstanceOf(WebhookAttemptNotFoundError);
      expect(receiver.requests).toHaveLength(0);
    });
  });

  describe('recoverFailedAttempts(subscriptionId, since)', () => {
    it('after an outage re-sends exactly the attempts that failed at/after `since`, oldest first, each with its original webhook-id', async () => {
      const clock = new FakeClock(START);
      // One request at a time, so the arrival order is the order the attempts were handed over.
      const id = await start({ delivery: { perEndpointConcurrency: 1 } }, clock);

      await publish({ n: 1 }); // delivered
      status = 500;
      clock.advance(MINUTE);
      await publish({ n: 2 }); // failed before the outage window we recover
      const since = new Date(START + 2 * MINUTE);
      clock.set(since);
      const [atSince] = await publish({ n: 3 }); // failed exactly at `since`
      status = 200;
      clock.advance(MINUTE);
      await publish({ n: 4 }); // delivered during the window: not resent
      status = 503;
      clock.advance(MINUTE);
      const [fifth] = await publish({ n: 5 });
      const [sixth] = await publish({ n: 6 });
      clock.advance(MINUTE);
      const [seventh] = await publish({ n: 7 });

      const failed = (await delivery().listAttempts(id, { status: 'failed' })).map((a) => dataOf(a.payload));
      expect(failed).toEqual([{ n: 7 }, { n: 6 }, { n: 5 }, { n: 3 }, { n: 2 }]);
      const before = receiver.requests.length;
      expect(before).toBe(7);

      // The endpoint is back.
      status = 200;
      clock.advance(10 * MINUTE);
      const recovered = await delivery().recoverFailedAttempts(id, since);
      const originals = [atSince!, fifth!, sixth!, seventh!];
      expect(recovered.map((a) => a.webhookId)).toEqual(originals.map((a) => a.webhookId));
      expect(recovered.map((a) => a.payload)).toEqual(originals.map((a) => a.payload));
      for (const attempt of recovered) expect(originals.map((a) => a.id)).not.toContain(attempt.id);
      await delivery().waitForPendingDeliveries();

      const resent = receiver.requests.slice(before);
      expect(resent.map((r) => dataOf(r.body))).toEqual([{ n: 3 }, { n: 5 }, { n: 6 }, { n: 7 }]);
      expect(resent.map((r) => r.headers['webhook-id'])).toEqual(originals.map((a) => a.webhookId));
      for (const attempt of recovered) expect(await delivery().getAttempt(attempt.id)).toMatchObject({ status: 'successful', tries: 1 });
    });

    it('sends nothing when nothing failed since then, and refuses an inactive subscription', async () => {
      const clock = new FakeClock(START);
      const id = await start({}, clock);
      status = 500;
      await publish({ n: 1 });
      clock.advance(MINUTE);
      expect(await delivery().recoverFailedAttempts(id, clock.now())).toEqual([]);
      await delivery().waitForPendingDeliveries();
      expect(receiver.requests).toHaveLength(1);

      await subscriptions().deactivate(id);
      await expect(delivery().recoverFailedAttempts(id, new Date(START))).rejects.toBeInstanceOf(WebhookSubscriptionOperationError);
      await delivery().waitForPendingDeliveries();
      expect(receiver.requests).toHaveLength(1);
    });
  });

  describe('idempotency keys on publish', () => {
    it('the same key creates one attempt per subscription and one request; another key is a new event', async () => {
      const a = await start();
      const { subscription: b } = await subscriptions().create({ url: `${receiver.url}/other`, events: ['order.*'] });

      const first = await publish({ v: 1 }, { idempotencyKey: 'evt-1' });
      expect(first.map((x) => x.subscriptionId).sort()).toEqual([a, b.id].sort());
      expect(await publish({ v: 2 }, { idempotencyKey: 'evt-1' })).toEqual([]);
      expect(await publish({ v: 1 }, { idempotencyKey: 'evt-1' })).toEqual([]);
      expect(receiver.requests).toHaveLength(2);
      expect(receiver.requests.map((r) => dataOf(r.body))).toEqual([{ v: 1 }, { v: 1 }]);
      expect(await delivery().listAttempts(a)).toHaveLength(1);
      expect(await delivery().listAttempts(b.id)).toHaveLength(1);

      // Concurrent publishes of one key (a retried API call racing the original).
      const racing = await Promise.all([0, 1, 2].map((i) => app!.get(WebhookPublisher).publish('order.created', { race: i }, { idempotencyKey: 'evt-2' })));
      await delivery().waitForPendingDeliveries();
      expect(racing.flat()).toHaveLength(2);
      expect(receiver.requests).toHaveLength(4);

      expect(await publish({ v: 3 }, { idempotencyKey: 'evt-3' })).toHaveLength(2);
      expect(await publish({ v: 4 })).toHaveLength(2); // no key: never deduplicated
      expect(await publish({ v: 4 })).toHaveLength(2);
      expect(receiver.requests).toHaveLength(10);
      expect(await delivery().listAttempts(a)).toHaveLength(5);
    });
  });

  // The TypeORM store only: rows read through the app's DataSource, a transaction's manager, a restart.
  if (kind !== 'memory') describe('idempotency keys on publish (TypeORM store)', () => {
    async function startTypeOrm(): Promise<INestApplication> {
      database ??= await storeFor(kind);
      return createWebhooksApp({ database, webhooks: { delivery: { retrySchedule: [] } } });
    }

    const rows = (subscriptionId: string) => app!.get(DataSource).getRepository(WebhookAttemptEntity).findBy({ subscriptionId });

    async function startWithSubscription(): Promise<string> {
      app = await startTypeOrm();
      const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/sql`, events: ['order.*'] });
      return subscription.id;
    }

    it('the same key gives one row and one request: sequentially, inside a transaction, and after a restart on the same database', async () => {
      const id = await startWithSubscription();
      const publisher = () => app!.get(WebhookPublisher);

      const [first] = await publisher().publish('order.created', { v: 1 }, { idempotencyKey: 'k-1' });
      expect(await publisher().publish('order.created', { v: 2 }, { idempotencyKey: 'k-1' })).toEqual([]);
      await app!.get(DataSource).transaction(async (manager) => {
        expect(await publisher().publish('order.created', { v: 3 }, { idempotencyKey: 'k-1', manager })).toEqual([]);
      });
      await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
      expect(receiver.requests).toHaveLength(1);
      expect(receiver.requests[0]!.headers['webhook-id']).toBe(first!.webhookId);
      expect((await rows(id)).map((r) => [r.idempotencyKey, r.status])).toEqual([['k-1', 'successful']]);

      // The key is stored: a new process on the same database still recognises it.
      await app!.close();
      app = await startTypeOrm();
      expect(await publisher().publish('order.created', { v: 4 }, { idempotencyKey: 'k-1' })).toEqual([]);
      expect(await publisher().publish('order.created', { v: 5 }, { idempotencyKey: 'k-2' })).toHaveLength(1);
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      expect(receiver.requests.map((r) => dataOf(r.body))).toEqual([{ v: 1 }, { v: 5 }]);
      expect((await rows(id)).map((r) => r.idempotencyKey).sort()).toEqual(['k-1', 'k-2']);
    });

    it('concurrent publishes of one key (a retried call racing the original) store one row and send only that row, once', async () => {
      const id = await startWithSubscription();
      const results = await Promise.all([0, 1, 2].map((race) => app!.get(WebhookPublisher).publish('order.created', { race }, { idempotencyKey: 'k-race' })));
      await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();

      const stored = await rows(id);
      expect(stored).toHaveLength(1);
      // What publish() reports as written is what is in the table...
      expect(results.flat().map((a) => a.id)).toEqual([stored[0]!.id]);
      // ...and the receiver gets exactly the stored event, once.
      expect(receiver.requests.map((r) => [r.headers['webhook-id'], r.body])).toEqual([[stored[0]!.webhookId, stored[0]!.payload]]);
    });
  });
});
