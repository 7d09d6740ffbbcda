import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidWebhookSubscriptionError,
  WebhookAuthorization,
  WebhookAuthorizer,
  WebhookDeliveryManager,
  WebhookEvents,
  type WebhookPreconditionFailureLimitReachedEvent,
  WebhookSubscriptionManager,
} from 'nest-webhooks';
import type { TestDatabase } from '../support/databases.js';
import { sequence, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/** An authorizer that cannot decide about anyone: every event is a precondition failure. */
class Undecided extends WebhookAuthorizer {
  authorize(): WebhookAuthorization {
    return WebhookAuthorization.PreconditionFailed;
  }
}

describe.each(STORES)('per-subscription limits (%s store)', (store) => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
    app = receiver = database = undefined;
  });

  async function start(authorizer?: new () => WebhookAuthorizer) {
    database = await storeFor(store);
    app = await createWebhooksApp({ database, authorizer, webhooks: { delivery: { retrySchedule: [] } } });
    return { subscriptions: app.get(WebhookSubscriptionManager), delivery: app.get(WebhookDeliveryManager), emitter: app.get(EventEmitter2) };
  }

  describe('attemptLimit', () => {
    it('keeps that many attempts, and deactivates when that many all failed', async () => {
      receiver = await TestReceiver.start({ responder: sequence(200, 200, 500, 500, 500) });
      const { subscriptions, delivery, emitter } = await start();
      const { subscription } = await subscriptions.create({ url: `${receiver.url}/hook`, events: ['order.*'], attemptLimit: 3 });
      expect(subscription.attemptLimit).toBe(3);
      for (let i = 0; i < 5; i++) {
        emitter.emit('order.created', { i });
        await delivery.waitForPendingDeliveries();
      }
      expect((await delivery.listAttempts(subscription.id)).map((a) => a.status)).toEqual(['failed', 'failed', 'failed']);
      expect((await subscriptions.get(subscription.id))!.active).toBe(false);
    });

    it('is a whole number from 1 to 10000, or null for the module\'s', async () => {
      const { subscriptions } = await start();
      for (const bad of [0, 1.5, 10_001, '3']) {
        await expect(subscriptions.create({ url: 'https://example.com/hook', attemptLimit: bad as number }), String(bad)).rejects.toThrow(InvalidWebhookSubscriptionError);
      }
      const { subscription } = await subscriptions.create({ url: 'https://example.com/hook', attemptLimit: 7 });
      expect((await subscriptions.update(subscription.id, { attemptLimit: null })).attemptLimit).toBeNull();
    });
  });

  describe('preconditionFailureLimit', () => {
    async function failTwice(decide?: (event: WebhookPreconditionFailureLimitReachedEvent) => void) {
      const { subscriptions, delivery, emitter } = await start(Undecided);
      if (decide) emitter.on(WebhookEvents.PreconditionFailureLimitReached, decide);
      const { subscription } = await subscriptions.create({ url: 'https://example.com/hook', ownerId: 'alice', preconditionFailureLimit: 2 });
      for (let i = 0; i < 2; i++) {
        emitter.emit('order.created', { i });
        await delivery.waitForPendingDeliveries();
      }
      const latest = (await subscriptions.get(subscription.id))!;
      // Counting failures and resetting the counter are internal: they do not count as an update.
      if (latest.active) expect(latest.updatedAt).toEqual(subscription.updatedAt);
      return latest;
    }

    it('deactivates at the subscription\'s own limit', async () => {
      expect(await failTwice()).toMatchObject({ active: false, preconditionFailures: 2 });
    });

    it('a listener may keep it active instead, to alert', async () => {
      expect(await failTwice((event) => event.keepActive())).toMatchObject({ active: true, preconditionFailures: 2 });
    });

    it('a listener may reset the counter', async () => {
      expect(await failTwice((event) => event.resetCounter())).toMatchObject({ active: true, preconditionFailures: 0 });
    });
  });
});
