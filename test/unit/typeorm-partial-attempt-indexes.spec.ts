import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { newAttemptId } from '../../libs/webhooks/src/core/attempt-id.js';
import type { WebhookAttempt } from '../../libs/webhooks/src/core/webhook-attempt.js';
import { attemptEntity } from '../../libs/webhooks/src/storage/typeorm/attempt-rows.js';
import { WebhookAttemptEntity } from '../../libs/webhooks/src/storage/typeorm/entities/webhook-attempt.entity.js';
import { TypeOrmWebhookStore } from '../../libs/webhooks/src/storage/typeorm/typeorm-webhook.store.js';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import { pendingAttempt } from '../support/attempts.js';
import { sqliteDataSourceOptions, tempSqliteFile, TEST_SECRET_KEY } from '../support/sqlite.js';

const DUE_INDEX = `CREATE INDEX "idx_webhook_attempt_due" ON "webhook_attempt" ("status", "claimable_at", "id") WHERE status = 'pending'`;
/** The due index before the coordination migration moved it to `claimable_at` and the id. */
const DUE_INDEX_BEFORE_ID = `CREATE INDEX "idx_webhook_attempt_due" ON "webhook_attempt" ("status", "next_attempt_at") WHERE status = 'pending'`;
const KEY_INDEX =
  'CREATE UNIQUE INDEX "uq_webhook_attempt_idempotency" ON "webhook_attempt" ("subscription_id", "idempotency_key") WHERE idempotency_key IS NOT NULL';
const RESOLVED_INDEX = `CREATE INDEX "idx_webhook_attempt_resolved" ON "webhook_attempt" ("subscription_id", "id") WHERE status <> 'pending'`;
const NOW = new Date('2026-01-01T00:00:00.000Z');

const attempt = (overrides: Partial<WebhookAttempt> = {}) => pendingAttempt(NOW, overrides);

/** The `webhook_attempt` indexes as SQLite stores them (`sql` is the CREATE statement, whitespace normalized). */
function attemptIndexes(path: string): Record<string, string> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'webhook_attempt' AND sql IS NOT NULL")
      .all() as Array<{ name: string; sql: string }>;
    return Object.fromEntries(rows.map((r) => [r.name, r.sql.replace(/\s+/g, ' ').trim()]));
  } finally {
    db.close();
  }
}

function newStore(dataSource: DataSource): TypeOrmWebhookStore {
  return new TypeOrmWebhookStore(() => dataSource, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
}

/** The SQL texts better-sqlite3 prepares while `work` runs (the store's prepared statements, TypeORM's queries). */
async function preparedDuring(work: () => Promise<unknown>): Promise<string[]> {
  const prepare = vi.spyOn(Database.prototype, 'prepare');
  try {
    await work();
    return prepare.mock.calls.map(([sql]) => sql);
  } finally {
    prepare.mockRestore();
  }
}

/** The statements better-sqlite3 ran while `work` ran, with the values they were bound to. */
async function statementsRunDuring(work: () => Promise<unknown>): Promise<Array<{ sql: string; values: unknown[] }>> {
  const scratch = new Database(':memory:');
  const proto = Object.getPrototypeOf(scratch.prepare('SELECT 1')) as Record<'all' | 'get' | 'run' | 'iterate', (...args: unknown[]) => unknown>;
  scratch.close();
  const spies = (['all', 'get', 'run', 'iterate'] as const).map((method) => vi.spyOn(proto, method));
  try {
    await work();
    return spies.flatMap((spy) => spy.mock.calls.map((values, i) => ({ sql: (spy.mock.contexts[i] as { source: string }).source, values })));
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('TypeORM store on SQLite: partial attempt indexes', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function migrated(migrations: Function[] = WEBHOOK_MIGRATIONS): Promise<{ path: string; dataSource: DataSource }> {
    const file = tempSqliteFile();
    cleanups.push(file.cleanup);
    const dataSource = new DataSource({ ...sqliteDataSourceOptions(file.path), migrations });
    await dataSource.initialize();
    cleanups.push(() => dataSource.isInitialized && dataSource.destroy());
    return { path: file.path, dataSource };
  }

  async function opened(dataSource: DataSource): Promise<TypeOrmWebhookStore> {
    const store = newStore(dataSource);
    await store.initialize();
    cleanups.push(() => store.close());
    return store;
  }

  it('creates the partial indexes with their WHERE clauses, the same as synchronize creates from the entity', async () => {
    const { path, dataSource } = await migrated();
    const indexes = attemptIndexes(path);
    expect(indexes['idx_webhook_attempt_due']).toBe(DUE_INDEX);
    expect(indexes['uq_webhook_attempt_idempotency']).toBe(KEY_INDEX);
    expect(indexes['idx_webhook_attempt_resolved']).toBe(RESOLVED_INDEX);
    expect(Object.keys(indexes).sort()).toEqual([
      'idx_webhook_attempt_due',
      'idx_webhook_attempt_resolved',
      'idx_webhook_attempt_subscription',
      'uq_webhook_attempt_idempotency',
    ]);
    expect(await dataSource.showMigrations()).toBe(false);
    // Note: TypeORM's schema diff ignores `where`; comparing with a synchronized file below is what checks the entity.
    expect((await dataSource.driver.createSchemaBuilder().log()).upQueries).toEqual([]);

    const synchronized = tempSqliteFile();
    cleanups.push(synchronized.cleanup);
    const fromEntities = new DataSource({ type: 'better-sqlite3', database: synchronized.path, entities: WEBHOOK_ENTITIES, synchronize: true });
    await fromEntities.initialize();
    await fromEntities.destroy();
    expect(attemptIndexes(synchronized.path)).toEqual(indexes);
  });

  it("plans the store's claim statement on idx_webhook_attempt_due and claims only due pending attempts", async () => {
    const { dataSource } = await migrated();
    let store!: TypeOrmWebhookStore;
    const prepared = await preparedDuring(async () => (store = await opened(dataSource)));
    const claims = prepared.filter((sql) => /ORDER BY claimable_at/.test(sql));
    expect(claims).toHaveLength(1);

    const later = new Date(NOW.getTime() + 60_000);
    const due = [attempt(), attempt()];
    const history = Array.from({ length: 50 }, () => attempt({ status: 'successful', nextAttemptAt: null }));
    await store.insertAttempts([...due, attempt({ nextAttemptAt: later }), ...history]);

    const db = new Database((dataSource.options as { database: string }).database, { readonly: true });
    cleanups.push(() => db.close());
    const plan = db
      .prepare(`EXPLAIN QUERY PLAN ${claims[0]}`)
      .all({ worker: 'w', until: NOW.getTime() + 1000, now: NOW.getTime(), limit: 10, excluded: '[]' }) as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail)).toContain('SEARCH webhook_attempt USING INDEX idx_webhook_attempt_due (status=? AND claimable_at<?)');
    // Due time, then id: the order comes from the index, with no sort of the due attempts.
    expect(plan.map((row) => row.detail).join(' | ')).not.toMatch(/TEMP B-TREE/);

    const claimed = await store.claimDue('w', NOW, new Date(NOW.getTime() + 1000), 10);
    expect(claimed.map((a) => a.id).sort()).toEqual(due.map((a) => a.id).sort());
  });

  it('still skips a duplicate (subscription, idempotency key), rejects it without the ignore, and accepts many NULL keys', async () => {
    const { path, dataSource } = await migrated();
    let store!: TypeOrmWebhookStore;
    // Keyed rows go through the statement with the conflict clause (prepared once, when the store opens).
    const prepared = await preparedDuring(async () => (store = await opened(dataSource)));
    expect(prepared.filter((sql) => sql.startsWith('INSERT INTO webhook_attempt') && /ON CONFLICT/.test(sql))).toEqual([expect.stringMatching(/ON CONFLICT DO NOTHING$/)]);

    const first = attempt({ idempotencyKey: 'k1' });
    expect(await store.insertAttempts([first])).toEqual([first]);
    // Already stored: the database's conflict clause skips it.
    expect(await store.insertAttempts([attempt({ idempotencyKey: 'k1' })])).toEqual([]);
    // Two with one key in one insert (what a concurrent publisher looks like): the second is skipped.
    const twins = [attempt({ idempotencyKey: 'k2' }), attempt({ idempotencyKey: 'k2' })];
    expect(await store.insertAttempts(twins)).toEqual([twins[0]]);
    // The same key on another subscription is another key.
    const elsewhere = attempt({ subscriptionId: 'sub_2', idempotencyKey: 'k1' });
    expect(await store.insertAttempts([elsewhere])).toEqual([elsewhere]);

    const unkeyed = Array.from({ length: 500 }, () => attempt());
    expect(await store.insertAttempts(unkeyed)).toHaveLength(500);

    const db = new Database(path);
    cleanups.push(() => db.close());
    const insert = db.prepare(
      `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, payload, dialect, history, idempotency_key, internal, created_at, updated_at)
       VALUES (?, 'msg_1', 'sub_1', 'order.created', 'pending', '{}', 'standard', '[]', ?, '{}', 0, 0)`,
    );
    expect(() => insert.run(newAttemptId(), 'k1')).toThrow(expect.objectContaining({ code: 'SQLITE_CONSTRAINT_UNIQUE' }));
    const keys = db
      .prepare('SELECT idempotency_key AS key, COUNT(*) AS n FROM webhook_attempt GROUP BY subscription_id, idempotency_key ORDER BY subscription_id, key')
      .all();
    expect(keys).toEqual([
      { key: null, n: 500 },
      { key: 'k1', n: 1 },
      { key: 'k2', n: 1 },
      { key: 'k1', n: 1 },
    ]);
  });

  it("plans every look-up of one subscription's attempts on that subscription's indexes, never on the due index", async () => {
    const { path, dataSource } = await migrated();
    const store = await opened(dataSource);
    // Another subscription's backlog: a plan that walked the due index would read all of it.
    await store.insertAttempts(Array.from({ length: 300 }, () => attempt({ subscriptionId: 'sub_backlog' })));
    const failed = Array.from({ length: 40 }, () => attempt({ status: 'failed', nextAttemptAt: null }));
    const successful = Array.from({ length: 30 }, () => attempt({ status: 'successful', nextAttemptAt: null }));
    const pending = Array.from({ length: 5 }, () => attempt());
    await store.insertAttempts([...failed, ...successful, ...pending]);
    await store.insertAttempts(Array.from({ length: 3 }, () => attempt({ subscriptionId: 'sub_gone' })));

    const results: Record<string, unknown> = {};
    const ran = await statementsRunDuring(async () => {
      results.counts = await store.countAttempts('sub_1');
      results.failedPage = (await store.listAttempts('sub_1', { status: 'failed', limit: 10 })).map((a) => a.id);
      results.failedBefore = (await store.listAttempts('sub_1', { status: 'failed', before: failed[20]!.id, limit: 5 })).map((a) => a.id);
      results.pending = (await store.listAttempts('sub_1', { status: 'pending' })).map((a) => a.id);
      results.trimmed = await store.trimHistory('sub_1', 50);
      results.cancelled = (await store.cancelPending('sub_gone', 'gone', NOW)).length;
      results.pruned = await store.pruneAttempts('sub_1', 40);
    });

    const newestFirst = (list: WebhookAttempt[]) => list.map((a) => a.id).reverse();
    expect(results.counts).toEqual({ total: 75, pending: 5, failed: 40, successful: 30 });
    expect(results.failedPage).toEqual(newestFirst(failed).slice(0, 10));
    expect(results.failedBefore).toEqual(newestFirst(failed.slice(15, 20)));
    expect(results.pending).toEqual(newestFirst(pending));
    // 5 pending leave room for 45 resolved: the 25 oldest resolved (all failed, created first) go.
    expect(results.trimmed).toEqual({ total: 50, pending: 5, failed: 15, successful: 30 });
    expect(results.cancelled).toBe(3);
    expect(results.pruned).toBe(10);
    expect(await store.countAttempts('sub_1')).toEqual({ total: 40, pending: 5, failed: 5, successful: 30 });
    expect(await store.countAttempts('sub_backlog')).toEqual({ total: 300, pending: 300, failed: 0, successful: 0 });

    const db = new Database(path, { readonly: true });
    cleanups.push(() => db.close());
    // Each statement explained with the values it ran with (SQLite may plan around a bound value).
    const plans = ran
      .filter(({ sql }) => /subscription_id\W*\s*=\s*[?@]/.test(sql) && !/^\s*INSERT/i.test(sql))
      .map(({ sql, values }) => ({ sql, plan: (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...values) as Array<{ detail: string }>).map((row) => row.detail).join(' | ') }));
    // count all / resolved, two list pages, pending list, count pending, trim, count resolved, cancel (read + update), prune
    expect(plans.length).toBeGreaterThanOrEqual(10);
    for (const { sql, plan } of plans) {
      expect(plan, sql).not.toMatch(/idx_webhook_attempt_due|\bSCAN (webhook_attempt|WebhookAttemptEntity)\b/);
      expect(plan, sql).toMatch(/SEARCH \S+ USING (COVERING )?INDEX idx_webhook_attempt_(subscription|resolved) \(subscription_id=\?/);
      if (/<> 'pending'/.test(sql)) expect(plan, sql).toMatch(/idx_webhook_attempt_resolved/);
    }
  });

  it('upgrades a database with rows in it, and the down() of each index migration restores the indexes before it', async () => {
    const [createTables] = WEBHOOK_MIGRATIONS;
    const { path, dataSource } = await migrated([createTables!]);
    const before = attemptIndexes(path);
    // Rows written as the first release did (its store needs nothing newer than these tables).
    const keyed = attempt({ idempotencyKey: 'k1' });
    const rows = [keyed, attempt(), ...Array.from({ length: 20 }, () => attempt({ status: 'failed', nextAttemptAt: null }))];
    // The columns of the first release (attemptEntity's other fields did not exist then).
    const firstRelease = rows.map((a) => {
      const { claimableAt: _new, ...columns } = attemptEntity(a);
      return columns;
    });
    const names = dataSource.getMetadata(WebhookAttemptEntity).columns.filter((c) => c.propertyName !== 'claimableAt');
    await dataSource.query(
      `INSERT INTO webhook_attempt (${names.map((c) => c.databaseName).join(', ')}) VALUES ${firstRelease.map(() => `(${names.map(() => '?').join(', ')})`).join(', ')}`,
      firstRelease.flatMap((row) => names.map((c) => {
        const value = (row as Record<string, unknown>)[c.propertyName];
        const to = (c.transformer as { to?: (v: unknown) => unknown } | undefined)?.to;
        return to ? to(value) : value;
      })),
    );
    await dataSource.destroy();

    // An existing install starts with the new migration list.
    const upgraded = new DataSource(sqliteDataSourceOptions(path));
    await upgraded.initialize();
    cleanups.push(() => upgraded.destroy());
    const latest = attemptIndexes(path);
    expect(latest).toMatchObject({ idx_webhook_attempt_due: DUE_INDEX, uq_webhook_attempt_idempotency: KEY_INDEX, idx_webhook_attempt_resolved: RESOLVED_INDEX });
    expect(latest).not.toHaveProperty('idx_webhook_attempt_subscription_status');

    // The scope column goes (the attempt indexes stay), then the coordination tables, and the due index loses the id.
    await upgraded.undoLastMigration();
    expect(attemptIndexes(path)).toEqual(latest);
    expect((await upgraded.query('PRAGMA table_info(webhook_subscription)')).map((c: { name: string }) => c.name)).not.toContain('scope');
    await upgraded.undoLastMigration();
    expect(attemptIndexes(path)).toEqual({ ...latest, idx_webhook_attempt_due: DUE_INDEX_BEFORE_ID });
    expect(await upgraded.query("SELECT name FROM sqlite_master WHERE name IN ('webhook_registry', 'webhook_endpoint_lease')")).toEqual([]);
    await upgraded.undoLastMigration();
    const partialOnly = attemptIndexes(path);
    expect(partialOnly).toMatchObject({ idx_webhook_attempt_due: DUE_INDEX_BEFORE_ID, idx_webhook_attempt_subscription_status: before['idx_webhook_attempt_subscription_status'] });
    expect(partialOnly).not.toHaveProperty('idx_webhook_attempt_resolved');
    await upgraded.undoLastMigration();
    expect(attemptIndexes(path)).toEqual(before);
    await upgraded.runMigrations();
    expect(attemptIndexes(path)).toEqual(latest);

    const reopened = await opened(upgraded);
    expect(await reopened.countAttempts('sub_1')).toEqual({ total: 22, pending: 2, failed: 20, successful: 0 });
    expect(await reopened.insertAttempts([attempt({ idempotencyKey: 'k1' })])).toEqual([]);
    expect(await reopened.claimDue('w', NOW, new Date(NOW.getTime() + 1000), 10)).toHaveLength(2);
  });
});
