import { Between, type EntityManager, In, LessThan, MoreThanOrEqual } from 'typeorm';
import { toEntityManager } from '../../core/to-entity-manager.js';
import { applyTry } from '../../core/apply-try.js';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { AttemptClaim, AttemptCounts, AttemptQuery, AttemptSearch, AttemptTryResult, OutboxStats, OutboxWrite, OutboxWriteResult, StoreWriteContext } from '../webhook-store.js';
import { attemptJson } from './attempt-json-columns.js';
import { statusIs } from './attempt-status-condition.js';
import { attemptEntity, attemptInsertValues, toAttempt, withoutPayloadBody } from './attempt-rows.js';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { POSTGRES_TRIM_HISTORY, trimmedCounts } from './postgres-attempt-writes.js';
import { postgresOutboxStatement } from './postgres-outbox.js';
import { readRegistryVersion } from './registry-sql.js';
import { type AttemptRow, returnedRows } from './typeorm-connection.js';
import { TypeOrmDeclarationStore } from './typeorm-declaration.store.js';

const INSERT_CHUNK = 200;

/**
 * The TypeORM store's attempts: written in the application's transaction (the outbox) or by the store's own
 * group commit, read, recorded try by try, counted and trimmed to the history limit.
 */
export abstract class TypeOrmAttemptStore extends TypeOrmDeclarationStore {
  // ---------------------------------------------------------------- attempts

  async insertAttempts(attempts: readonly WebhookAttempt[], context: StoreWriteContext = {}, claim?: AttemptClaim): Promise<WebhookAttempt[]> {
    return (await this.writeOutbox({ attempts, context, claim })).inserted;
  }

  /**
   * Writes phase 1's attempts while the registry is at `write.registryVersion`:
   * - PostgreSQL: one statement share-locks the version row, checks it and inserts (the lock lasts until the
   *   caller's transaction, or the statement, commits);
   * - SQLite on the store's connection: in the group commit's write transaction, which reads the version first;
   * - SQLite in the application's transaction: the version is read in that transaction, then the rows are inserted
   *   (SQLite lets one writer commit at a time, and a transaction that read an older state cannot write).
   */
  override async writeOutbox(write: OutboxWrite): Promise<OutboxWriteResult> {
    await this.initialize();
    const { attempts, claim, registryVersion: expected } = write;
    const manager = write.context?.manager && this.sharesTransactionsWith(write.context.manager) ? toEntityManager(write.context.manager) : undefined;
    if (attempts.length === 0) {
      // Nothing to write: reading the version is the check (share-locked inside a PostgreSQL transaction).
      return { registryVersion: expected === undefined ? -1 : await this.registryVersion({ manager }), inserted: [] };
    }
    if (this.isPostgres) return this.writeOutboxPostgres(write, manager);
    if (this.sqlite && !manager) {
      const result = await this.sqlite.writer.submit({
        kind: 'outbox',
        rows: attempts.map((a) => attemptInsertValues(a, claim)),
        keyed: attempts.map((a) => a.idempotencyKey !== null),
        expectedVersion: expected ?? null,
      });
      const written = result.inserted;
      return { registryVersion: result.version, inserted: written ? attempts.filter((_, i) => written[i]) : [] };
    }
    const version = expected === undefined ? -1 : manager ? await readRegistryVersion(manager, false) : await this.registryVersion();
    if (version !== expected && expected !== undefined) return { registryVersion: version, inserted: [] };
    return { registryVersion: version, inserted: await this.insertWithTypeOrm(attempts, manager, claim) };
  }

  protected async writeOutboxPostgres(write: OutboxWrite, manager: EntityManager | undefined): Promise<OutboxWriteResult> {
    const { attempts, claim, registryVersion: expected } = write;
    const statement = postgresOutboxStatement({
      checked: expected !== undefined,
      keyed: attempts.some((a) => a.idempotencyKey !== null),
      notify: claim === undefined,
    });
    const values = statement.values(
      attempts.map((a) => attemptInsertValues(a, claim)),
      expected,
    );
    const rows = (await (manager ? manager.query(statement.text, values) : this.run((ds) => ds.query(statement.text, values)))) as Array<{
      version: string | number;
      ids: string[];
    }>;
    const written = new Set(rows[0]!.ids);
    return { registryVersion: Number(rows[0]!.version), inserted: attempts.filter((a) => written.has(a.id)) };
  }

  /** Inserts through TypeORM's query builder (the application's transaction on SQLite, or another database). */
  protected async insertWithTypeOrm(attempts: readonly WebhookAttempt[], manager: EntityManager | undefined, claim?: AttemptClaim): Promise<WebhookAttempt[]> {
    if (attempts.length === 0) return [];
    const keyed = attempts.filter((a) => a.idempotencyKey !== null);
    let fresh: readonly WebhookAttempt[] = attempts;
    if (keyed.length > 0) {
      // Idempotency hits are skipped here; a concurrent publisher's row makes the insert below ignore ours.
      const existing = await this.withManager(manager, (m) =>
        this.attempts(m).find({
          where: { subscriptionId: In([...new Set(keyed.map((a) => a.subscriptionId))]), idempotencyKey: In([...new Set(keyed.map((a) => a.idempotencyKey!))]) },
          select: { subscriptionId: true, idempotencyKey: true },
        }),
      );
      const taken = new Set(existing.map((e) => `${e.subscriptionId}\u0000${e.idempotencyKey}`));
      fresh = attempts.filter((a) => a.idempotencyKey === null || !taken.has(`${a.subscriptionId}\u0000${a.idempotencyKey}`));
    }
    const rows = fresh.map((a) => attemptEntity(a, claim));
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const chunk = rows.slice(i, i + INSERT_CHUNK);
      await this.withManager(manager, (m) => {
        const insert = m.createQueryBuilder().insert().into(WebhookAttemptEntity).values(chunk);
        return (keyed.length > 0 ? insert.orIgnore() : insert).execute();
      });
    }
    if (keyed.length === 0) return [...fresh];
    // A concurrent publisher may have won a key between the check and the insert: keep only our rows.
    const ids = fresh.filter((a) => a.idempotencyKey !== null).map((a) => a.id);
    const stored = new Set<string>();
    for (let i = 0; i < ids.length; i += INSERT_CHUNK) {
      const chunk = ids.slice(i, i + INSERT_CHUNK);
      const found = await this.withManager(manager, (m) => this.attempts(m).find({ where: { id: In(chunk) }, select: { id: true } }));
      for (const row of found) stored.add(row.id);
    }
    return fresh.filter((a) => a.idempotencyKey === null || stored.has(a.id));
  }

  /** Runs through the caller's transactional manager when there is one, else on the store's own connection. */
  protected withManager<T>(manager: EntityManager | undefined, work: (m: EntityManager) => Promise<T>): Promise<T> {
    return manager ? work(manager) : this.run((ds) => work(ds.manager));
  }

  async findAttempt(id: string): Promise<WebhookAttempt | null> {
    if (typeof id !== 'string') return null;
    const entity = await this.run((ds) => this.attempts(ds).findOneBy({ id }));
    return entity ? toAttempt(entity) : null;
  }

  async findAttempts(ids: readonly string[]): Promise<WebhookAttempt[]> {
    if (ids.length === 0) return [];
    const entities = await this.run((ds) => this.attempts(ds).findBy({ id: In([...ids]) }));
    return entities.map((e) => toAttempt(e));
  }

  async listAttempts(subscriptionId: string, query: AttemptQuery = {}): Promise<WebhookAttempt[]> {
    const entities = await this.run((ds) =>
      this.attempts(ds).find({
        where: {
          subscriptionId,
          ...(query.status ? { status: statusIs(query.status, this.sqlite !== undefined) } : {}),
          ...(query.before !== undefined ? { id: LessThan(query.before) } : {}),
        },
        order: { id: 'DESC' },
        take: query.limit,
      }),
    );
    return entities.map((e) => toAttempt(e));
  }

  async searchAttempts(query: AttemptSearch): Promise<WebhookAttempt[]> {
    if (query.subscriptionIds?.length === 0) return [];
    const created = query.since && query.until ? Between(query.since, new Date(query.until.getTime() - 1)) : query.since ? MoreThanOrEqual(query.since) : query.until ? LessThan(query.until) : undefined;
    const entities = await this.run((ds) =>
      this.attempts(ds).find({
        where: {
          ...(query.subscriptionIds ? { subscriptionId: In([...query.subscriptionIds]) } : {}),
          ...(query.status ? { status: query.status } : {}),
          ...(query.eventName !== undefined ? { eventName: query.eventName } : {}),
          ...(created ? { createdAt: created } : {}),
          ...(query.before !== undefined ? { id: LessThan(query.before) } : {}),
        },
        order: { id: 'DESC' },
        take: query.limit,
      }),
    );
    return entities.map((e) => toAttempt(e));
  }

  async outboxStats(): Promise<OutboxStats> {
    const row = await this.run((ds) =>
      this.attempts(ds)
        .createQueryBuilder('a')
        .select('COUNT(*)', 'pending')
        .addSelect('MIN(a.created_at)', 'oldest')
        .addSelect('MIN(a.next_attempt_at)', 'due')
        .where("a.status = 'pending'")
        .getRawOne<{ pending: string | number; oldest: string | number | null; due: string | number | null }>(),
    );
    const time = (value: string | number | null | undefined) => (value === null || value === undefined ? null : new Date(Number(value)));
    return { pending: Number(row?.pending ?? 0), oldestPendingAt: time(row?.oldest), oldestDueAt: time(row?.due) };
  }

  async recordTry(current: WebhookAttempt, result: AttemptTryResult, now: Date): Promise<WebhookAttempt | null> {
    const id = current.id;
    const updated = applyTry(current, result, now);
    if (this.sqlite || this.postgresTries) {
      const values = [
        updated.status,
        updated.message,
        attemptJson.request(withoutPayloadBody(updated)),
        attemptJson.response(updated.response),
        updated.tries,
        attemptJson.history(updated.history),
        updated.nextAttemptAt?.getTime() ?? null,
        // `internal` only changes when the try adds an exception; NULL keeps the stored value.
        result.exception ? attemptJson.internal(updated.internal) : null,
        updated.updatedAt.getTime(),
        id,
        current.tries,
      ];
      const changes = this.sqlite ? await this.sqlite.writer.submit({ kind: 'recordTry', values }) : await this.postgresTries!.submit(values);
      return changes > 0 ? updated : null;
    }
    const values = attemptEntity(updated);
    values.leaseOwner = null;
    values.leaseExpiresAt = null;
    const { id: _id, ...changes } = values;
    // Only a still-pending attempt at the same try count is updated: an attempt resolves exactly once.
    const outcome = await this.run((ds) => this.attempts(ds).update({ id, status: 'pending', tries: current.tries }, changes));
    return (outcome.affected ?? 0) > 0 ? updated : null;
  }

  async countAttempts(subscriptionId: string): Promise<AttemptCounts> {
    if (this.sqlite) {
      const row = this.sqlite.countAttempts.get({ subscriptionId }) as { total: number; failed: number; successful: number };
      return { total: row.total, pending: row.total - row.failed - row.successful, failed: row.failed, successful: row.successful };
    }
    const rows = await this.run((ds) =>
      this.attempts(ds)
        .createQueryBuilder('a')
        .select('a.status', 'status')
        .addSelect('COUNT(*)', 'count')
        .where('a.subscription_id = :subscriptionId', { subscriptionId })
        .groupBy('a.status')
        .getRawMany<{ status: WebhookAttempt['status']; count: string | number }>(),
    );
    const counts: AttemptCounts = { total: 0, pending: 0, failed: 0, successful: 0 };
    for (const row of rows) {
      counts[row.status] = Number(row.count);
      counts.total += Number(row.count);
    }
    return counts;
  }

  async pruneAttempts(subscriptionId: string, keep: number): Promise<number> {
    const { total } = await this.countAttempts(subscriptionId);
    const excess = total - keep;
    if (excess <= 0) return 0;
    if (this.sqlite) {
      const sqlite = this.sqlite;
      return sqlite.writer.submit({ kind: 'pruneOldestResolved', subscriptionId, excess });
    }
    const oldest = await this.run((ds) =>
      this.attempts(ds).find({
        where: { subscriptionId, status: In(['successful', 'failed']) },
        select: { id: true },
        order: { id: 'ASC' },
        take: excess,
      }),
    );
    if (oldest.length === 0) return 0;
    const result = await this.run((ds) => this.attempts(ds).delete({ id: In(oldest.map((o) => o.id)) }));
    return result.affected ?? 0;
  }

  /** On SQLite: one write that counts only what the rule needs (see `SqliteAttemptStatements`). */
  override async trimHistory(subscriptionId: string, limit: number): Promise<AttemptCounts> {
    if (this.sqlite) return this.sqlite.writer.submit({ kind: 'trimHistory', subscriptionId, limit });
    if (!this.isPostgres) return super.trimHistory(subscriptionId, limit);
    const [row] = (await this.run((ds) => ds.query(POSTGRES_TRIM_HISTORY, [subscriptionId, limit]))) as Array<{ pending: number; failed: number; successful: number }>;
    return trimmedCounts(row!);
  }

  async clearAttempts(subscriptionId: string): Promise<number> {
    const result = await this.run((ds) => this.attempts(ds).delete({ subscriptionId }));
    return result.affected ?? 0;
  }
}
