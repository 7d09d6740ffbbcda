import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Column, DataSource, Entity, PrimaryGeneratedColumn } from 'typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StandardWebhookDialect, WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookAttemptEntity } from 'nest-webhooks/typeorm';
import { TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type DatabaseKind, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES } from '../support/webhooks-app.js';

@Entity({ name: 'tx_order' })
class TxOrder {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar' })
  item!: string;
}

class Rollback extends Error {}

class ExplodingDialect extends StandardWebhookDialect {
  override externalize(): string {
    throw new Error('cannot externalize');
  }
}

/** The application's own table, for `TxOrder` (the library's migrations create only the webhook tables). */
const CREATE_TX_ORDER: Record<DatabaseKind, string> = {
  sqlite: 'CREATE TABLE tx_order (id INTEGER PRIMARY KEY AUTOINCREMENT, item VARCHAR NOT NULL)',
  postgres: 'CREATE TABLE tx_order (id SERIAL PRIMARY KEY, item VARCHAR NOT NULL)',
};

describe.each(DATABASE_STORES)('transaction-bound delivery on %s', (kind) => {
  let app: INestApplication;
  let receiver: TestReceiver;
  let database: TestDatabase;
  let subscriptionId: string;

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({
      database,
      entities: [TxOrder],
      webhooks: { dialects: { exploding: new ExplodingDialect() } },
    });
    await app.get(DataSource).query(CREATE_TX_ORDER[kind]);
    ({ subscription: { id: subscriptionId } } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] }));
  });

  afterEach(async () => {
    await app.close();
    await receiver.close();
    await database.drop();
  });

  const attemptRows = () => app.get(DataSource).getRepository(WebhookAttemptEntity).countBy({ subscriptionId });

  it('publish({ manager }) in a rolled-back transaction sends nothing and leaves no attempt row', async () => {
    const dataSource = app.get(DataSource);
    await expect(
      dataSource.transaction(async (manager) => {
        const order = await manager.save(TxOrder, { item: 'book' });
        await app.get(WebhookPublisher).publish('order.created', order, { manager });
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(0);
    expect(await attemptRows()).toBe(0);
    expect(await dataSource.getRepository(TxOrder).count()).toBe(0);
  });

  it('publish({ manager }) writes the attempt in that transaction and delivers exactly once after commit', async () => {
    await app.get(DataSource).transaction(async (manager) => {
      const order = await manager.save(TxOrder, { item: 'book' });
      await app.get(WebhookPublisher).publish('order.created', order, { manager });
      // The row is part of the open transaction: visible through it, not yet to the store's own connection.
      expect(await manager.countBy(WebhookAttemptEntity, { subscriptionId })).toBe(1);
      expect(await app.get(WebhookDeliveryManager).listAttempts(subscriptionId)).toHaveLength(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(receiver.requests).toHaveLength(0);
    });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(1);
    expect(await attemptRows()).toBe(1);
  });

  it('emit() inside a @nestjs-cls/transactional transaction: rollback sends nothing, commit sends once', async () => {
    const txHost = app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    const emitter = app.get(EventEmitter2);
    await expect(
      txHost.withTransaction(async () => {
        const order = await txHost.tx.save(TxOrder, { item: 'lost' });
        emitter.emit('order.created', order);
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(0);
    expect(await attemptRows()).toBe(0);

    await txHost.withTransaction(async () => {
      const order = await txHost.tx.save(TxOrder, { item: 'kept' });
      emitter.emit('order.created', order);
      // Nothing is written before the commit: the attempt row joins the transaction at commit time.
      expect(await app.get(WebhookDeliveryManager).listAttempts(subscriptionId)).toHaveLength(0);
    });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(1);
    expect(JSON.parse(receiver.requests[0]!.body).data).toMatchObject({ item: 'kept' });
    expect(await attemptRows()).toBe(1);
  });

  it('a dialect that throws at commit time fails its attempt, not the application\'s commit', async () => {
    const txHost = app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    const subscriptions = app.get(WebhookSubscriptionManager);
    await subscriptions.deactivate(subscriptionId);
    const { subscription } = await subscriptions.create({ url: receiver.url, dialect: 'exploding' });
    await txHost.withTransaction(async () => {
      await txHost.tx.save(TxOrder, { item: 'still committed' });
      app.get(EventEmitter2).emit('order.created', { item: 'x' });
    });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(await app.get(DataSource).getRepository(TxOrder).countBy({ item: 'still committed' })).toBe(1);
    const attempts = await app.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: 'failed', message: 'The payload could not be externalized for delivery.' });
    expect(receiver.requests).toHaveLength(0);
  });

  it('a rolled-back savepoint drops only its own events', async () => {
    const txHost = app.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
    const emitter = app.get(EventEmitter2);
    await txHost.withTransaction(async () => {
      emitter.emit('order.created', { item: 'outer' });
      await expect(
        txHost.withTransaction('NESTED' as never, async () => {
          emitter.emit('order.updated', { item: 'inner' });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
    });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests.map((r) => JSON.parse(r.body).type)).toEqual(['order.created']);
  });
});
