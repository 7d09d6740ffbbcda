import { type EntityManager, MoreThan } from 'typeorm';
import { WebhookSubscriptionTombstoneEntity } from './entities/webhook-subscription-tombstone.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';

/** The PostgreSQL `LISTEN`/`NOTIFY` channel of the processes sharing the webhook tables. */
export const SIGNAL_CHANNEL = 'nest_webhooks';

/** Tombstones kept, counted in registry versions; a process further behind reloads every subscription. */
const TOMBSTONE_VERSIONS_KEPT = 10_000;

/** Creates the version row when the tables came from `synchronize` rather than the migrations. */
export async function ensureRegistryRow(manager: EntityManager, postgres: boolean): Promise<void> {
  await manager.query(
    postgres
      ? 'INSERT INTO webhook_registry (id, version, pruned_through) VALUES (1, 0, 0) ON CONFLICT (id) DO NOTHING'
      : 'INSERT OR IGNORE INTO webhook_registry (id, version, pruned_through) VALUES (1, 0, 0)',
  );
}

/**
 * Raises the registry version inside `manager`'s transaction and returns it. It must be the transaction's first
 * statement: every change then locks the version row before any subscription or attempt row, so two changes,
 * or a change and an outbox write (which locks the version row first too), never wait for each other in a cycle.
 */
export async function raiseRegistryVersion(manager: EntityManager, postgres: boolean): Promise<number> {
  await manager.query('UPDATE webhook_registry SET version = version + 1 WHERE id = 1');
  const rows = (await manager.query('SELECT version FROM webhook_registry WHERE id = 1')) as Array<{ version: string | number }>;
  if (rows.length === 0) throw new Error('webhook_registry has no version row; run WEBHOOK_MIGRATIONS');
  // Delivered when the transaction commits, to every process listening.
  if (postgres) await manager.query(`SELECT pg_notify('${SIGNAL_CHANNEL}', 'registry')`);
  return Number(rows[0]!.version);
}

/**
 * The version now. With `lock` (PostgreSQL, inside a transaction) the version row is share-locked until that
 * transaction ends: a change waits for it, and it waits for a change in progress and then reads its version.
 */
export async function readRegistryVersion(manager: EntityManager, lock: boolean): Promise<number> {
  const rows = (await manager.query(`SELECT version FROM webhook_registry WHERE id = 1${lock ? ' FOR SHARE' : ''}`)) as Array<{ version: string | number }>;
  return rows.length === 0 ? 0 : Number(rows[0]!.version);
}

/**
 * Subscriptions changed after `since`, and ids deleted after it; every subscription when `since` is -1 or older than
 * the tombstones kept. The version is read first: rows of later changes may come along, which is harmless (a
 * reader applies a change once it has it, and again when it reads past that version).
 */
export async function readSubscriptionChanges(
  manager: EntityManager,
  since: number,
): Promise<{ version: number; changed: WebhookSubscriptionEntity[]; deleted: string[]; complete: boolean }> {
  const [registry] = (await manager.query('SELECT version, pruned_through FROM webhook_registry WHERE id = 1')) as Array<{
    version: string | number;
    pruned_through: string | number;
  }>;
  const version = Number(registry?.version ?? 0);
  const complete = since < 0 || since < Number(registry?.pruned_through ?? 0);
  if (!complete && since >= version) return { version, changed: [], deleted: [], complete };
  const changed = await manager.getRepository(WebhookSubscriptionEntity).find({
    where: complete ? {} : { revision: MoreThan(since) },
    order: { createdAt: 'ASC', id: 'ASC' },
  });
  const deleted = complete
    ? []
    : (await manager.getRepository(WebhookSubscriptionTombstoneEntity).find({ where: { revision: MoreThan(since) }, select: { subscriptionId: true } })).map(
        (t) => t.subscriptionId,
      );
  return { version, changed, deleted, complete };
}

/** Records a delete at `version` and drops tombstones too old to be read (readers that far behind reload). */
export async function addTombstone(manager: EntityManager, subscriptionId: string, version: number): Promise<void> {
  await manager.getRepository(WebhookSubscriptionTombstoneEntity).insert({ subscriptionId, revision: version });
  const floor = version - TOMBSTONE_VERSIONS_KEPT;
  if (floor <= 0 || version % 100 !== 0) return;
  await manager.query(`DELETE FROM webhook_subscription_tombstone WHERE revision <= ${floor}`);
  await manager.query(`UPDATE webhook_registry SET pruned_through = ${floor} WHERE id = 1 AND pruned_through < ${floor}`);
}

