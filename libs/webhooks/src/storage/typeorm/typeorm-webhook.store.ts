import { type DataSource, In, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { ClaimOptions, EndpointLease } from '../webhook-store.js';
import { toAttempt } from './attempt-rows.js';
import { statusIs } from './attempt-status-condition.js';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookEndpointLeaseEntity } from './entities/webhook-endpoint-lease.entity.js';
import { POSTGRES_CLAIM_DUE } from './postgres-attempt-writes.js';
import { SIGNAL_CHANNEL } from './registry-sql.js';
import { type EndpointLeaseRow } from './sqlite-attempt-writes.js';
import { TypeOrmAttemptStore } from './typeorm-attempt.store.js';
import { type AttemptRow, returnedRows } from './typeorm-connection.js';

/** How often claims look for pending attempts without `claimable_at` (see `repairClaimable`). */
const CLAIMABLE_REPAIR_MS = 1000;

/** Claim order: the oldest due first, and among attempts due the same millisecond the oldest created (ids sort by creation). */
const byDueThenCreated = (a: WebhookAttempt, b: WebhookAttempt) =>
  (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Stores subscriptions and attempts in TypeORM tables (`WEBHOOK_ENTITIES`, created by `WEBHOOK_MIGRATIONS`) of
 * the application's DataSource, so attempts can be written in the application's own transactions.
 *
 * Every statement the store runs on its own is a single statement (atomic without a transaction). On SQLite,
 * TypeORM funnels a DataSource through one connection and one query runner, so an open application transaction
 * would swallow the store's writes; the store therefore opens a second connection to the same file for its own
 * statements, with no busy wait (a blocking wait would stall the event loop that the application's transaction
 * needs to finish) and asynchronous retries instead.
 */
export class TypeOrmWebhookStore extends TypeOrmAttemptStore {
  private nextClaimableRepair = 0;

  // ---------------------------------------------------------------- claims

  async claimDue(workerId: string, now: Date, leaseUntil: Date, limit: number, options: ClaimOptions = {}): Promise<WebhookAttempt[]> {
    const excluded = (options.excludeSubscriptions ?? []).slice(0, 500);
    const nowMs = now.getTime();
    const untilMs = leaseUntil.getTime();
    await this.repairClaimable();
    if (this.sqlite) {
      const rows = await this.sqlite.writer.submit({ kind: 'claimDue', worker: workerId, until: untilMs, now: nowMs, limit, excluded: JSON.stringify(excluded) });
      return rows.map((row) => toAttempt(this.decodeAttempt(row))).sort(byDueThenCreated);
    }
    if (this.isPostgres) {
      const result = await this.run((ds) => ds.query(POSTGRES_CLAIM_DUE, [workerId, untilMs, nowMs, excluded, limit]));
      return returnedRows<AttemptRow>(result).map((row) => toAttempt(this.decodeAttempt(row))).sort(byDueThenCreated);
    }
    const ids = await this.run(async (ds) => {
      const due = ds
        .createQueryBuilder()
        .subQuery()
        .select('d.id')
        .from(WebhookAttemptEntity, 'd')
        // A literal, not a parameter: a generic plan could not use the partial due index (WHERE status = 'pending').
        .where("d.status = 'pending'")
        .andWhere('d.claimable_at <= :now')
        .andWhere('(d.lease_owner IS NULL OR d.lease_expires_at <= :now)')
        .andWhere(excluded.length > 0 ? 'd.subscription_id NOT IN (:...excluded)' : '1 = 1')
        .orderBy('d.claimable_at', 'ASC')
        .addOrderBy('d.id', 'ASC')
        .limit(limit);
      if (this.isPostgres) (due as SelectQueryBuilder<ObjectLiteral>).setLock('pessimistic_write').setOnLocked('skip_locked');
      const update = ds
        .createQueryBuilder()
        .update(WebhookAttemptEntity)
        .set({ leaseOwner: workerId, leaseExpiresAt: untilMs, claimableAt: untilMs })
        .where(`id IN ${due.getQuery()}`)
        .setParameters({ now: nowMs, ...(excluded.length > 0 ? { excluded } : {}) });
      if (ds.driver.isReturningSqlSupported('update')) {
        const result = await update.returning(['id']).execute();
        return (result.raw as Array<{ id: string }>).map((r) => r.id);
      }
      await update.execute();
      // Without RETURNING, the lease value (worker + expiry) identifies exactly what this claim took.
      const taken = await this.attempts(ds).find({ where: { leaseOwner: workerId, leaseExpiresAt: untilMs, status: 'pending' }, select: { id: true } });
      return taken.map((t) => t.id);
    });
    if (ids.length === 0) return [];
    return (await this.findAttempts(ids)).sort(byDueThenCreated);
  }

  /**
   * Pending attempts written without `claimable_at` (by a process of an earlier version still running during an
   * upgrade) get it, so they are claimed; looked for at most once a second (an index range, empty but during such an upgrade).
   */
  private async repairClaimable(): Promise<void> {
    if (Date.now() < this.nextClaimableRepair) return;
    this.nextClaimableRepair = Date.now() + CLAIMABLE_REPAIR_MS;
    await this.run((ds) =>
      ds.query(
        "UPDATE webhook_attempt SET claimable_at = CASE WHEN lease_owner IS NULL THEN next_attempt_at ELSE lease_expires_at END WHERE status = 'pending' AND claimable_at IS NULL",
      ),
    );
  }

  async renewClaims(workerId: string, ids: readonly string[], leaseUntil: Date): Promise<void> {
    if (this.sqlite) {
      await this.sqlite.writer.submit({ kind: 'renewClaims', ids, worker: workerId, until: leaseUntil.getTime() });
      return;
    }
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await this.run((ds) =>
        this.attempts(ds).update({ id: In(chunk), leaseOwner: workerId, status: 'pending' }, { leaseExpiresAt: leaseUntil.getTime(), claimableAt: leaseUntil.getTime() }),
      );
    }
  }

  async releaseClaims(workerId: string, ids?: readonly string[]): Promise<void> {
    if (ids !== undefined && this.sqlite) {
      await this.sqlite.writer.submit({ kind: 'releaseClaims', ids, worker: workerId });
      return;
    }
    // Claimable again at its due time.
    const released = { leaseOwner: null, leaseExpiresAt: null, claimableAt: () => 'next_attempt_at' };
    if (ids === undefined) {
      await this.run((ds) => this.attempts(ds).update({ leaseOwner: workerId, status: 'pending' }, released));
    } else {
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        await this.run((ds) => this.attempts(ds).update({ id: In(chunk), leaseOwner: workerId, status: 'pending' }, released));
      }
    }
    // Other workers claim what was handed back at once rather than at their next poll.
    if (this.isPostgres) await this.run((ds) => ds.query(`SELECT pg_notify('${SIGNAL_CHANNEL}', 'attempts')`));
  }

  async cancelPending(subscriptionId: string, message: string, now: Date): Promise<WebhookAttempt[]> {
    const where = { subscriptionId, status: statusIs('pending', this.sqlite !== undefined) };
    const pending = await this.run((ds) => this.attempts(ds).findBy(where));
    if (pending.length === 0) return [];
    await this.run((ds) =>
      this.attempts(ds).update(where, { status: 'failed', message, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, claimableAt: null, updatedAt: now }),
    );
    return pending.map((e) => ({ ...toAttempt(e), status: 'failed' as const, message, nextAttemptAt: null, updatedAt: now }));
  }

  // ---------------------------------------------------------------- endpoint leases

  override async acquireEndpoints(workerId: string, endpoints: readonly string[], now: Date, until: Date): Promise<Map<string, EndpointLease>> {
    const result = new Map<string, EndpointLease>();
    if (endpoints.length === 0) return result;
    let rows: EndpointLeaseRow[];
    if (this.sqlite) {
      rows = await this.sqlite.writer.submit({ kind: 'acquireEndpoints', endpoints, worker: workerId, now: now.getTime(), until: until.getTime() });
    } else if (!this.isPostgres) {
      return super.acquireEndpoints(workerId, endpoints, now, until);
    } else {
      const list = [...endpoints];
      await this.run((ds) =>
        ds.query(
          `INSERT INTO webhook_endpoint_lease (endpoint, worker_id, expires_at) SELECT e, $2, $3 FROM unnest($1::varchar[]) AS e
           ON CONFLICT (endpoint) DO UPDATE SET worker_id = excluded.worker_id, expires_at = excluded.expires_at
           WHERE webhook_endpoint_lease.worker_id = excluded.worker_id OR webhook_endpoint_lease.expires_at <= $4`,
          [list, workerId, until.getTime(), now.getTime()],
        ),
      );
      const found = await this.run((ds) => ds.getRepository(WebhookEndpointLeaseEntity).findBy({ endpoint: In(list) }));
      rows = found.map((f) => ({ endpoint: f.endpoint, worker_id: f.workerId, expires_at: Number(f.expiresAt) }));
    }
    for (const row of rows) if (row) result.set(row.endpoint, { workerId: row.worker_id, expiresAt: Number(row.expires_at) });
    return result;
  }

  override async releaseEndpoints(workerId: string, endpoints?: readonly string[]): Promise<void> {
    if (endpoints?.length === 0) return;
    if (this.sqlite) {
      await this.sqlite.writer.submit({ kind: 'releaseEndpoints', endpoints: endpoints ?? null, worker: workerId });
      return;
    }
    const repository = (ds: DataSource) => ds.getRepository(WebhookEndpointLeaseEntity);
    await this.run((ds) => repository(ds).delete(endpoints ? { workerId, endpoint: In([...endpoints]) } : { workerId }));
  }

  /** Decodes raw `webhook_attempt` rows (column names to values) with the entity's column transformers. */
}
