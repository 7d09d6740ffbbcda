import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { DataSource } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PayloadTooLargeError, WebhookDeliveryManager, WebhookMessages, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookAttemptEntity } from 'nest-webhooks/typeorm';
import { TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES } from '../support/webhooks-app.js';

const LIMIT = 4096;

describe.each(DATABASE_STORES)('payload size limit (delivery.maxPayloadBytes) on %s', (kind) => {
  let app: INestApplication;
  let receiver: TestReceiver;
  let database: TestDatabase;
  let subscriptionId: string;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ database, webhooks: { delivery: { maxPayloadBytes: LIMIT } } });
    // The application's own table (no key: the same SQL on both databases).
    await app.get(DataSource).query('CREATE TABLE note (text VARCHAR(64) NOT NULL)');
    ({ subscription: { id: subscriptionId } } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url }));
  });
  afterEach(async () => {
    await app.close();
    await receiver.close();
    await database.drop();
  });

  const big = { text: 'x'.repeat(LIMIT) };

  it('publish() throws PayloadTooLargeError before writing anything, and the caller’s transaction can still commit', async () => {
    const dataSource = app.get(DataSource);
    await dataSource.transaction(async (manager) => {
      await manager.query("INSERT INTO note (text) VALUES ('kept')");
      const error = await app.get(WebhookPublisher).publish('note.created', big, { manager }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(PayloadTooLargeError);
      expect((error as PayloadTooLargeError).message).toMatch(/over the 4096-byte limit \(delivery\.maxPayloadBytes\)/);
      expect(await manager.countBy(WebhookAttemptEntity, {})).toBe(0);
    });
    expect(await dataSource.query('SELECT text FROM note')).toEqual([{ text: 'kept' }]);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(0);
    expect(await app.get(WebhookDeliveryManager).listAttempts(subscriptionId)).toHaveLength(0);
  });

  it('an emitted oversized event is recorded as a failed attempt (not dropped), sends nothing, and does not break the commit', async () => {
    const txHost = app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    await txHost.withTransaction(async () => {
      await txHost.tx.query("INSERT INTO note (text) VALUES ('committed')");
      app.get(EventEmitter2).emit('note.created', big);
    });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(await app.get(DataSource).query('SELECT text FROM note')).toEqual([{ text: 'committed' }]);
    const attempts = await app.get(WebhookDeliveryManager).listAttempts(subscriptionId);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.PayloadTooLarge, tries: 0 });
    expect(attempts[0]!.internal.exceptionHistory[0]).toMatch(/PayloadTooLargeError/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('a payload just under the limit is delivered', async () => {
    await app.get(WebhookPublisher).publish('note.created', { text: 'x'.repeat(LIMIT - 200) });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(1);
  });
});
