import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { DataSource } from 'typeorm';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookAttemptEntity } from 'nest-webhooks/typeorm';
import { createTestDatabase, DATABASES, type TestDatabase, transactionalModules } from '../support/databases.js';
import { ok, type ReceivedRequest, TestReceiver } from '../support/receiver.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * Two instances of one application (A and B) on one database, each with its own connection and its own registry,
 * as two replicas behind a load balancer. A subscription changed through A is honoured by B from the next event
 * that commits, and from the next try.
 */
describe.each(DATABASES)('replicas on one %s database: one truth about subscriptions', (kind) => {
  let database: TestDatabase;
  let a: INestApplication;
  let b: INestApplication;
  let receiver: TestReceiver;

  const boot = () =>
    createWebhooksApp({
      before: transactionalModules(database),
      webhooks: {
        storage: { type: 'typeorm' },
        secrets: { encryptionKeys: [{ id: 'k1', key: TEST_SECRET_KEY }] },
        limits: { attemptLimit: 1000 },
        delivery: { retrySchedule: [50, 50, 50, 50, 50, 50, 50, 50], retryJitter: 0 },
      },
    });

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start();
    a = await boot();
    b = await boot();
  });

  afterEach(async () => {
    await a?.close();
    await b?.close();
    await receiver.close();
    await database.drop();
  });

  /** Emits through B, outside and inside a transaction, and waits until B has sent what it will. */
  async function publishThroughB(count: number, eventName = 'order.created'): Promise<void> {
    const emitter = b.get(EventEmitter2);
    const publisher = b.get(WebhookPublisher);
    for (let i = 0; i < count; i++) {
      if (i % 2 === 0) emitter.emit(eventName, { seq: i });
      else await b.get(DataSource).transaction((manager) => publisher.publish(eventName, { seq: i }, { manager }));
    }
    await b.get(WebhookDeliveryManager).waitForPendingDeliveries();
  }

  const attemptRows = (subscriptionId: string) => b.get(DataSource).getRepository(WebhookAttemptEntity).countBy({ subscriptionId });
  const verify = (request: ReceivedRequest, secret: string) => new Webhook(secret).verify(request.body, request.headers);

  it('a subscription created through A gets the events published through B', async () => {
    const { subscription, secret } = await a.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hooks`, events: ['order.*'] });
    await publishThroughB(6);
    expect(receiver.requests).toHaveLength(6);
    for (const request of receiver.requests) expect(() => verify(request, secret)).not.toThrow();
    expect(await attemptRows(subscription.id)).toBe(6);
  });

  it('after A deactivates it, B sends nothing and writes no attempt; after A activates it, B delivers again', async () => {
    const manager = a.get(WebhookSubscriptionManager);
    const { subscription } = await manager.create({ url: receiver.url, events: ['order.*'] });
    await publishThroughB(1);
    expect(receiver.requests).toHaveLength(1);

    expect(await manager.deactivate(subscription.id)).toBe(true);
    await publishThroughB(10);
    expect(receiver.requests).toHaveLength(1);
    expect(await attemptRows(subscription.id)).toBe(1);

    expect(await manager.activate(subscription.id)).toBe(true);
    await publishThroughB(4);
    expect(receiver.requests).toHaveLength(5);
  });

  it('after A changes its URL, headers or events, B uses the new ones from the next event', async () => {
    const manager = a.get(WebhookSubscriptionManager);
    const { subscription } = await manager.create({ url: `${receiver.url}/old`, events: ['order.*'], headers: { 'x-team': 'one' } });
    await publishThroughB(1);
    await manager.update(subscription.id, { url: `${receiver.url}/new`, headers: { 'x-team': 'two' } });
    await publishThroughB(2);
    expect(receiver.requests.map((r) => [r.path, r.headers['x-team']])).toEqual([
      ['/old', 'one'],
      ['/new', 'two'],
      ['/new', 'two'],
    ]);
    await manager.update(subscription.id, { events: ['invoice.*'] });
    await publishThroughB(2);
    await publishThroughB(1, 'invoice.paid');
    expect(receiver.requests.map((r) => JSON.parse(r.body).type)).toEqual(['order.created', 'order.created', 'order.created', 'invoice.paid']);
  });

  it('after A rotates the secret, B signs with the new secret (and the old one during the overlap)', async () => {
    const manager = a.get(WebhookSubscriptionManager);
    const { subscription, secret: first } = await manager.create({ url: receiver.url, events: ['order.*'] });
    await publishThroughB(1);
    const { secret: second } = await manager.rotateSecret(subscription.id);
    await publishThroughB(1);
    const latest = receiver.requests[1]!;
    expect(() => verify(latest, second)).not.toThrow();
    expect(() => verify(latest, first)).not.toThrow();
    expect(latest.headers['webhook-signature']!.split(' ')).toHaveLength(2);
  });

  it('after A deletes it, B sends nothing, leaves no attempt row behind and never sends unsigned', async () => {
    const manager = a.get(WebhookSubscriptionManager);
    const { subscription } = await manager.create({ url: receiver.url, events: ['order.*'] });
    await publishThroughB(1);
    expect(await manager.delete(subscription.id)).toBe(true);
    await publishThroughB(10);
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests.every((r) => r.headers['webhook-signature'])).toBe(true);
    expect(await attemptRows(subscription.id)).toBe(0);
    expect(await b.get(WebhookSubscriptionManager).get(subscription.id)).toBeNull();
  });

  it('a retry B holds for a subscription A then deactivates or deletes is never tried again', async () => {
    const manager = a.get(WebhookSubscriptionManager);
    const deactivated = (await manager.create({ url: `${receiver.url}/deactivated`, events: ['order.*'] })).subscription;
    const deleted = (await manager.create({ url: `${receiver.url}/deleted`, events: ['order.*'] })).subscription;
    receiver.respondWith(ok(500));
    b.get(EventEmitter2).emit('order.created', { seq: 1 });
    // B has made the first try of each and holds their retries, due every 50 ms.
    await receiver.waitForRequests(2);
    await manager.deactivate(deactivated.id);
    await manager.delete(deleted.id);
    const triesAtChange = receiver.requests.length;
    await b.get(WebhookDeliveryManager).waitForPendingDeliveries();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await b.get(WebhookDeliveryManager).processDueAttempts();
    await b.get(WebhookDeliveryManager).waitForPendingDeliveries();
    // At most the tries already on the wire when the changes committed (one per subscription).
    expect(receiver.requests.length - triesAtChange).toBeLessThanOrEqual(2);
    const after = receiver.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests.length).toBe(after);
    const [attempt] = await b.get(WebhookDeliveryManager).listAttempts(deactivated.id);
    expect(attempt).toMatchObject({ status: 'failed' });
    expect(await attemptRows(deleted.id)).toBe(0);
  });
});
