import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/** Static subscriptions (declared in code) belong to each process, also when the processes share the store. */
describe.each(DATABASES)('static subscriptions in several processes (%s)', (kind) => {
  let database: TestDatabase;
  let receiver: TestReceiver;
  const apps: INestApplication[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await receiver?.close();
    await database?.drop();
  });

  it("one deactivated in a worker does not cancel the events another process publishes for it; that worker leaves them", async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start();
    const boot = async (worker: boolean) => {
      const app = await createWebhooksApp({
        database,
        webhooks: {
          subscriptions: [{ id: 'orders', url: receiver.url, events: ['order.*'], secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` }],
          delivery: { worker, pollIntervalMs: 100 },
        },
      });
      apps.push(app);
      return app;
    };
    const a = await boot(true);
    const b = await boot(false);
    await a.get(WebhookSubscriptionManager).deactivate('orders');
    expect((await b.get(WebhookSubscriptionManager).get('orders'))?.active).toBe(true);

    for (let i = 0; i < 3; i++) b.get(EventEmitter2).emit('order.created', { i });
    await b.get(WebhookDeliveryManager).waitForPendingDeliveries();
    await a.get(WebhookDeliveryManager).processDueAttempts();
    await a.get(WebhookDeliveryManager).waitForPendingDeliveries();
    // Still pending for a process where the subscription is active; A sent nothing and cancelled nothing.
    expect((await b.get(WebhookDeliveryManager).listAttempts('orders')).map((x) => x.status)).toEqual(['pending', 'pending', 'pending']);
    expect(receiver.requests).toHaveLength(0);

    // A worker in which it is active delivers them.
    const c = await boot(true);
    await c.get(WebhookDeliveryManager).processDueAttempts();
    await receiver.waitForRequests(3);
    await c.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect((await b.get(WebhookDeliveryManager).listAttempts('orders')).map((x) => x.status)).toEqual(['successful', 'successful', 'successful']);
  }, 30_000);
});
