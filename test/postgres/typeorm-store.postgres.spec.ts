import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { TypeOrmWebhookStore } from '../../libs/webhooks/src/storage/typeorm/typeorm-webhook.store.js';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import { pendingAttempt } from '../support/attempts.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';

/**
 * The TypeORM store and the library's migrations on a real PostgreSQL server. `npm test` has none, so this suite
 * runs only when `WEBHOOKS_TEST_POSTGRES_URL` names an empty database it may create tables in, e.g.
 * `WEBHOOKS_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5433/webhooks npx vitest run test/postgres`.
 */
const url = process.env.WEBHOOKS_TEST_POSTGRES_URL;
const NOW = new Date('2026-01-01T00:00:00.000Z');

describe.skipIf(!url)('TypeORM store on PostgreSQL', () => {
  let dataSource: DataSource;
  let store: TypeOrmWebhookStore;

  beforeAll(async () => {
    dataSource = new DataSource({ type: 'postgres', url, entities: WEBHOOK_ENTITIES, migrations: WEBHOOK_MIGRATIONS, migrationsRun: true });
    await dataSource.initialize();
    store = new TypeOrmWebhookStore(() => dataSource, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
    await store.initialize();
  });

  afterAll(async () => {
    await store?.close();
    if (dataSource?.isInitialized) {
      for (let i = 0; i < WEBHOOK_MIGRATIONS.length; i++) await dataSource.undoLastMigration();
      await dataSource.query('DROP TABLE IF EXISTS migrations');
      await dataSource.destroy();
    }
  });

  it('creates the partial indexes with their predicates, and no longer the (subscription, status, id) index', async () => {
    const rows = (await dataSource.query(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'webhook_attempt' AND indexname LIKE '%webhook_attempt%' ORDER BY indexname",
    )) as Array<{ indexname: string; indexdef: string }>;
    expect(rows.map((r) => r.indexname)).toEqual([
      'idx_webhook_attempt_due',
      'idx_webhook_attempt_resolved',
      'idx_webhook_attempt_subscription',
      'uq_webhook_attempt_idempotency',
    ]);
    expect(rows[0]!.indexdef).toMatch(/WHERE \(\(status\)::text = 'pending'::text\)$/);
    expect(rows[1]!.indexdef).toMatch(/\(subscription_id, id\) WHERE \(\(status\)::text <> 'pending'::text\)$/);
    expect(rows[3]!.indexdef).toMatch(/^CREATE UNIQUE INDEX .* WHERE \(idempotency_key IS NOT NULL\)$/);
  });

  it('skips a used idempotency key (ON CONFLICT DO NOTHING with the partial unique index) and accepts any number of NULL keys', async () => {
    const sub = { subscriptionId: 'sub_keys' };
    expect(await store.insertAttempts([pendingAttempt(NOW, { ...sub, idempotencyKey: 'k1' })])).toHaveLength(1);
    expect(await store.insertAttempts([pendingAttempt(NOW, { ...sub, idempotencyKey: 'k1' })])).toEqual([]);
    expect(await store.insertAttempts([pendingAttempt(NOW, { ...sub, idempotencyKey: 'k2' }), pendingAttempt(NOW, { ...sub, idempotencyKey: 'k2' })])).toHaveLength(1);
    expect(await store.insertAttempts(Array.from({ length: 100 }, () => pendingAttempt(NOW, sub)))).toHaveLength(100);
    expect((await store.countAttempts('sub_keys')).total).toBe(102);
  });

  it('claims due attempts once (the partial due index serves the claim) and records a try', async () => {
    const sub = { subscriptionId: 'sub_claims' };
    const inserted = await store.insertAttempts([pendingAttempt(NOW, sub), pendingAttempt(NOW, sub), pendingAttempt(NOW, { ...sub, nextAttemptAt: new Date('2027-01-01T00:00:00.000Z') })]);
    const claimed = await store.claimDue('w1', new Date('2026-01-01T00:00:01.000Z'), new Date('2026-01-01T00:01:00.000Z'), 100, { excludeSubscriptions: ['sub_keys'] });
    expect(claimed.map((a) => a.id).sort()).toEqual(inserted.slice(0, 2).map((a) => a.id).sort());
    expect(await store.claimDue('w2', new Date('2026-01-01T00:00:02.000Z'), new Date('2026-01-01T00:01:00.000Z'), 100, { excludeSubscriptions: ['sub_keys'] })).toEqual([]);

    const tried = await store.recordTry(
      claimed[0]!,
      {
        status: 'successful',
        message: '200 OK',
        request: null,
        response: null,
        try: { number: 1, startedAt: NOW, elapsedMs: 1, statusCode: 200, message: '200 OK', errorCode: null },
        nextAttemptAt: null,
        exception: null,
      },
      NOW,
    );
    expect(tried?.status).toBe('successful');
    expect(await store.countAttempts('sub_claims')).toEqual({ total: 3, pending: 2, failed: 0, successful: 1 });

    await dataSource.query('SET enable_seqscan = off');
    const plan = (await dataSource.query(
      "EXPLAIN SELECT id FROM webhook_attempt WHERE status = 'pending' AND claimable_at <= 1 ORDER BY claimable_at, id LIMIT 10",
    )) as Array<{ 'QUERY PLAN': string }>;
    await dataSource.query('RESET enable_seqscan');
    expect(plan.map((r) => r['QUERY PLAN']).join('\n')).toContain('idx_webhook_attempt_due');
  });

  it('takes the index migrations down and up again on a table with rows, keeping them', async () => {
    const before = (await dataSource.query('SELECT count(*)::int AS n FROM webhook_attempt')) as Array<{ n: number }>;
    const indexdef = async (name: string) =>
      ((await dataSource.query('SELECT indexdef FROM pg_indexes WHERE indexname = $1', [name])) as Array<{ indexdef: string }>)[0]?.indexdef;
    await dataSource.undoLastMigration();
    expect(await dataSource.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'webhook_subscription' AND column_name = 'scope'")).toEqual([]);
    await dataSource.undoLastMigration();
    expect(await dataSource.query("SELECT to_regclass('webhook_registry') AS t")).toEqual([{ t: null }]);
    await dataSource.undoLastMigration();
    expect(await indexdef('idx_webhook_attempt_resolved')).toBeUndefined();
    expect(await indexdef('idx_webhook_attempt_subscription_status')).toMatch(/\(subscription_id, status, id\)$/);
    await dataSource.undoLastMigration();
    expect(await indexdef('idx_webhook_attempt_due')).not.toContain('WHERE');
    await dataSource.runMigrations();
    expect(await indexdef('idx_webhook_attempt_due')).toContain('WHERE');
    expect(await indexdef('idx_webhook_attempt_resolved')).toContain('WHERE');
    expect(await indexdef('idx_webhook_attempt_subscription_status')).toBeUndefined();
    expect(await indexdef('idx_webhook_subscription_scope')).toMatch(/\(scope\)$/);
    expect((await dataSource.query('SELECT count(*)::int AS n FROM webhook_attempt')) as Array<{ n: number }>).toEqual(before);
  });

  it("trims a subscription's history and counts it through the resolved index's queries", async () => {
    const sub = { subscriptionId: 'sub_history' };
    const failed = Array.from({ length: 8 }, () => pendingAttempt(NOW, { ...sub, status: 'failed', nextAttemptAt: null }));
    const successful = Array.from({ length: 4 }, () => pendingAttempt(NOW, { ...sub, status: 'successful', nextAttemptAt: null }));
    await store.insertAttempts([...failed, ...successful, pendingAttempt(NOW, sub)]);
    expect(await store.countAttempts('sub_history')).toEqual({ total: 13, pending: 1, failed: 8, successful: 4 });
    expect((await store.listAttempts('sub_history', { status: 'failed', limit: 3 })).map((a) => a.id)).toEqual(failed.slice(-3).reverse().map((a) => a.id));
    expect(await store.trimHistory('sub_history', 6)).toEqual({ total: 6, pending: 1, failed: 1, successful: 4 });
    expect((await store.cancelPending('sub_history', 'gone', NOW)).length).toBe(1);
  });
});
