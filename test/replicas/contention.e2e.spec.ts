import type { INestApplication } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookPublisher, WebhookRegistryConflictError, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookStore } from 'nest-webhooks/extensions';
import { createTestDatabase, dataSourceOptions, POSTGRES_URL, type TestDatabase, transactionalModules } from '../support/databases.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';
import { createWebhooksApp } from '../support/webhooks-app.js';
import { SubscriptionRegistry } from '../../libs/webhooks/src/subscriptions/subscription-registry.js';

/**
 * Subscription changes, registry reads and outbox writes that meet in the database. Each case was a hang, a
 * 30 s stall or a lost outcome before its fix (found by a review that reproduced them); a case that hangs is told
 * apart from one that finishes by a generous deadline.
 */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const outcomeOf = (work: Promise<unknown>, hungAfterMs: number) =>
  Promise.race([
    work.then(
      () => 'done',
      (error: Error) => `failed: ${error.name}: ${error.message}`,
    ),
    sleep(hungAfterMs).then(() => 'hung'),
  ]);
const publishOnly = { storage: { type: 'typeorm' }, secrets: { encryptionKeys: [{ id: 'k1', key: TEST_SECRET_KEY }] }, delivery: { worker: false } } as const;

let database: TestDatabase | undefined;
const apps: INestApplication[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await Promise.race([app.close(), sleep(5000)]);
  await database?.drop();
  database = undefined;
});

describe.skipIf(!POSTGRES_URL)('on PostgreSQL', () => {
  const boot = async (poolMax: number) => {
    const app = await createWebhooksApp({
      before: [
        TypeOrmModule.forRoot({ ...dataSourceOptions(database!), extra: { max: poolMax } } as never),
        ClsModule.forRoot({ global: true, plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }) })] }),
      ],
      webhooks: publishOnly as never,
    });
    apps.push(app);
    return app;
  };

  it('transactions that publish while they hold every pooled connection commit when another process changes a subscription', async () => {
    database = await createTestDatabase('postgres');
    const a = await boot(5);
    const b = await boot(3); // one connection listens: two for the application
    await a.get(WebhookSubscriptionManager).create({ url: 'https://example.com/one', events: ['order.*'] });
    await b.get(SubscriptionRegistry).refresh();
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const transactions = [0, 1].map((i) =>
      b.get(DataSource).transaction(async (manager) => {
        await manager.query('SELECT 1');
        await barrier;
        await b.get(WebhookPublisher).publish('order.created', { i }, { manager });
      }),
    );
    await sleep(200);
    // B's registry reads this change (a notification, its timer) on a pooled connection, which the transactions hold;
    // their outbox writes, stale, read it inside the transactions instead of waiting behind that read.
    await a.get(WebhookSubscriptionManager).create({ url: 'https://example.com/two', events: ['order.*'] });
    await sleep(300);
    release();
    expect(await outcomeOf(Promise.all(transactions), 10_000)).toBe('done');
  }, 30_000);

  it('a transaction that publishes and then changes a subscription gets a clear error, not a hang', async () => {
    database = await createTestDatabase('postgres');
    const app = await boot(5);
    const subscriptions = app.get(WebhookSubscriptionManager);
    const transaction = app.get(DataSource).transaction(async (manager) => {
      await app.get(WebhookPublisher).publish('tenant.created', { id: 't1' }, { manager });
      await subscriptions.create({ url: 'https://example.com/t1', events: ['order.*'], ownerId: 't1' });
    });
    const outcome = await outcomeOf(transaction, 15_000);
    expect(outcome).toMatch(/^failed: WebhookRegistryLockTimeoutError: A subscription change waited 5000 ms for transactions that published webhooks/);
    // Nothing of it stays: the transaction rolled back, and changes work again.
    expect(await subscriptions.list()).toEqual([]);
    await subscriptions.create({ url: 'https://example.com/t1', events: ['order.*'] });
  }, 30_000);

  it('try outcomes and a deactivate that lock the same rows in different orders both complete', async () => {
    database = await createTestDatabase('postgres');
    const app = await boot(5);
    const subscriptions = app.get(WebhookSubscriptionManager);
    const store = app.get(WebhookStore);
    const { subscription } = await subscriptions.create({ url: 'https://example.com/hooks', events: ['order.*'] });
    const held = (id: string, until: number) =>
      database!.query(
        `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, payload, dialect, tries, history, next_attempt_at, lease_owner, lease_expires_at, internal, created_at, updated_at, claimable_at)
         VALUES (?, ?, ?, 'order.created', 'pending', '{}', 'standard', 0, '[]', 0, 'w', ?, '{"originated":null,"exceptionHistory":[]}', 0, 0, ?)`,
        [id, id, subscription.id, until, until],
      );
    // A backlog, then two held attempts whose rows lie in the heap in the opposite order of their ids.
    await database.query(
      `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, payload, dialect, tries, history, next_attempt_at, internal, created_at, updated_at, claimable_at)
       SELECT 'backlog-' || lpad(g::text, 6, '0'), 'w' || g, ?, 'order.created', 'pending', '{}', 'standard', 1, '[]', 0, '{}', 0, 0, ? FROM generate_series(1, 3000) g`,
      [subscription.id, Date.now() + 3_600_000],
    );
    const until = Date.now() + 60_000;
    await held('zz-2-y', until);
    await held('zz-1-x', until);
    await database.query('ANALYZE webhook_attempt');
    const x = (await store.findAttempt('zz-1-x'))!;
    const y = (await store.findAttempt('zz-2-y'))!;
    // Something holds x for a moment (here a session of the test's), so the two statements meet.
    const blocker = app.get(DataSource).createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('SELECT id FROM webhook_attempt WHERE id = $1 FOR UPDATE', [x.id]);
    const now = new Date();
    const result = {
      status: 'pending' as const,
      message: '500 Internal Server Error',
      request: null,
      response: null,
      try: { number: 1, startedAt: now, elapsedMs: 1, statusCode: 500, message: '500', errorCode: null },
      nextAttemptAt: new Date(now.getTime() + 60_000),
      exception: null,
    };
    const outcomes = Promise.allSettled([store.recordTry(x, result, now), store.recordTry(y, result, now)]);
    await sleep(200);
    const deactivated = subscriptions.deactivate(subscription.id);
    await sleep(300);
    await blocker.commitTransaction();
    await blocker.release();
    // Whichever PostgreSQL ends as the deadlock's victim runs again.
    expect((await outcomes).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    expect(await deactivated).toBe(true);
  }, 60_000);
});

describe('on SQLite', () => {
  const boot = async () => {
    const app = await createWebhooksApp({ before: transactionalModules(database!), webhooks: publishOnly as never });
    apps.push(app);
    return app;
  };

  it("a registry read inside a transaction does not wait behind a change that waits for that transaction's lock", async () => {
    database = await createTestDatabase('sqlite');
    const a = await boot();
    const b = await boot();
    const { subscription } = await b.get(WebhookSubscriptionManager).create({ url: 'https://example.com/one', events: ['order.*'] });
    await database.query('CREATE TABLE contention_orders (id integer)');
    await a.get(WebhookSubscriptionManager).create({ url: 'https://example.com/two', events: ['order.*'] }); // B has not read it
    let release!: () => void;
    const barrier = new Promise<void>((resolve) => (release = resolve));
    const transaction = b.get(DataSource).transaction(async (manager) => {
      await manager.query('INSERT INTO contention_orders (id) VALUES (1)'); // holds the write lock
      await barrier;
      await b.get(WebhookPublisher).publish('order.created', { id: 1 }, { manager });
    });
    await sleep(100);
    // Meanwhile in B: a change (waits for the write lock) and a registry read queued behind it.
    const change = b.get(WebhookSubscriptionManager).update(subscription.id, { description: 'x' });
    await sleep(50);
    const refresh = b.get(SubscriptionRegistry).refresh();
    await sleep(50);
    release();
    // It used to stall 30 s (the change's busy timeout) and fail the change with "database is locked".
    expect(await outcomeOf(transaction, 10_000)).toBe('done');
    expect(await outcomeOf(change, 10_000)).toBe('done');
    await refresh;
  }, 60_000);

  it('a transaction that read before a change this process applied cannot write: a clear error, not an endless loop', async () => {
    database = await createTestDatabase('sqlite');
    const app = await boot();
    const subscriptions = app.get(WebhookSubscriptionManager);
    await subscriptions.create({ url: 'https://example.com/a', events: ['order.*'] });
    const transaction = app.get(DataSource).transaction(async (manager) => {
      await manager.query('SELECT version FROM webhook_registry'); // the transaction's snapshot starts here
      await subscriptions.create({ url: 'https://example.com/b', events: ['order.*'] }); // another request, committed
      await app.get(WebhookPublisher).publish('order.created', { id: 1 }, { manager });
    });
    await expect(transaction).rejects.toBeInstanceOf(WebhookRegistryConflictError);
  });
});
