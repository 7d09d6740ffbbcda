import { EventEmitter2 } from '@nestjs/event-emitter';
import { describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookEvents, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock, WebhookStore } from 'nest-webhooks/extensions';
import { pendingAttempt } from '../support/attempts.js';
import { FakeClock } from '../support/fake-clock.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, DATABASE_STORES, storeFor } from '../support/webhooks-app.js';

/** Two defects found when the durability suites first ran on PostgreSQL; each test failed before its fix. */
describe.each(DATABASE_STORES)('store under concurrency (%s)', (kind) => {
  it('claims attempts due in the same millisecond oldest first, also after their rows were updated', async () => {
    const database = (await storeFor(kind))!;
    const app = await createWebhooksApp({ database, webhooks: { delivery: { worker: false } } });
    try {
      const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: 'https://127.0.0.1:1/x' });
      const store = app.get(WebhookStore);
      const now = app.get(WebhookClock).now();
      const attempts = Array.from({ length: 20 }, () => pendingAttempt(now, { subscriptionId: subscription.id }));
      await store.insertAttempts(attempts);
      // A claim and a release rewrite the rows (PostgreSQL stores the new versions elsewhere in the table).
      await store.claimDue('w1', now, new Date(now.getTime() + 60_000), 20);
      await store.releaseClaims('w1');
      const claimed = await store.claimDue('w2', now, new Date(now.getTime() + 60_000), 20);
      expect(claimed.map((a) => a.id)).toEqual(attempts.map((a) => a.id));
    } finally {
      await app.close();
      await database.drop();
    }
  });

  it('twenty retries succeeding at once each clear the failure streak and are announced', async () => {
    let status = 503;
    const receiver = await TestReceiver.start({ responder: (request, res, req) => ok(status)(request, res, req) });
    const database = (await storeFor(kind))!;
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createWebhooksApp({
      database,
      webhooks: { delivery: { retrySchedule: [1000], retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 600_000 } },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
    try {
      const succeeded: string[] = [];
      app.get(EventEmitter2).on(WebhookEvents.AttemptSucceeded, (event: { attempt: { id: string } }) => succeeded.push(event.attempt.id));
      const subscriptions = app.get(WebhookSubscriptionManager);
      const delivery = app.get(WebhookDeliveryManager);
      const { subscription } = await subscriptions.create({ url: `${receiver.url}/x` });
      for (let i = 0; i < 20; i++) await app.get(WebhookPublisher).publish('burst.event', { i });
      await delivery.waitForPendingDeliveries(10_000);
      expect((await subscriptions.get(subscription.id))!.failingSince).not.toBeNull();

      // On SQLite the twenty successes change the subscription at once: their transactions used to interleave on
      // one connection (a second BEGIN failed, and its rollback ended the first), losing outcomes and events.
      status = 200;
      clock.advance(1000);
      expect(await delivery.processDueAttempts()).toBe(20);
      await delivery.waitForPendingDeliveries(10_000);
      expect(receiver.requests).toHaveLength(40);
      expect((await delivery.listAttempts(subscription.id)).every((a) => a.status === 'successful')).toBe(true);
      expect(succeeded).toHaveLength(20);
      expect((await database.query('SELECT failing_since FROM webhook_subscription WHERE id = ?', [subscription.id]))[0]!.failing_since).toBeNull();
    } finally {
      await app.close();
      await receiver.close();
      await database.drop();
    }
  });
});
