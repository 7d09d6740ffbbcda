import { Logger } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { DataSource, type EntityManager, type FindOperator, In, LessThan, Raw, type ObjectLiteral, type SelectQueryBuilder, type ValueTransformer } from 'typeorm';
import { applyTry } from '../../core/apply-try.js';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import { SecretCipher } from '../../secrets/secret-cipher.js';
import { WebhookRegistryLockTimeoutError } from '../../core/subscription.errors.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { toEntityManager } from '../../core/to-entity-manager.js';
import type { WebhookEntityManager } from '../../core/webhook-entity-manager.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import {
  type AttemptClaim,
  type ClaimOptions,
  type AttemptCounts,
  type AttemptQuery,
  type AttemptTryResult,
  type EndpointLease,
  type OutboxWrite,
  type OutboxWriteResult,
  type StoredSigningSecret,
  type StoreSignal,
  type SubscriptionChanges,
  type SubscriptionCredentials,
  type StoreWriteContext,
  type SubscriptionPatch,
  type SubscriptionQuery,
  type SubscriptionUpdateOptions,
  WebhookStore,
} from '../webhook-store.js';
import { attemptJson } from './attempt-json-columns.js';
import { attemptEntity, attemptInsertValues, toAttempt, withoutPayloadBody } from './attempt-rows.js';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookEndpointLeaseEntity } from './entities/webhook-endpoint-lease.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { WEBHOOK_ENTITIES } from './index.js';
import { POSTGRES_CLAIM_DUE, POSTGRES_TRIM_HISTORY, PostgresTryBatch, trimmedCounts } from './postgres-attempt-writes.js';
import { withPostgresClientGuard } from './postgres-client-guard.js';
import { postgresOutboxStatement } from './postgres-outbox.js';
import { PostgresSignals } from './postgres-signals.js';
import { addTombstone, ensureRegistryRow, raiseRegistryVersion, readRegistryVersion, readSubscriptionChanges, SIGNAL_CHANNEL } from './registry-sql.js';
import { type EndpointLeaseRow, SqliteAttemptStatements } from './sqlite-attempt-writes.js';
import { SqliteWriteBatch } from './sqlite-write-batch.js';
import { toSubscription, toSubscriptionEntity } from './subscription-rows.js';
import { WalCheckpointer } from './wal-checkpointer.js';

const INSERT_CHUNK = 200;
/** How often claims look for pending attempts without `claimable_at` (see `repairClaimable`). */
const CLAIMABLE_REPAIR_MS = 1000;
/** How long a subscription change waits for transactions that published webhooks (PostgreSQL). */
const CHANGE_LOCK_TIMEOUT_MS = 5000;
const BUSY_RETRY_LIMIT_MS = 30_000;
/** SQLite's own `wal_autocheckpoint` default, in pages. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

interface SecretRecord {
  id: string;
  secret: string;
  createdAt: number;
  expiresAt: number | null;
}

/** The plaintext of the encrypted `secrets` column: signing secrets and subscription-defined header values. */
interface SealedCredentials {
  secrets: SecretRecord[];
  headers: Record<string, string>;
}

/** A `webhook_attempt` row as better-sqlite3 returns it: column names to raw values. */
type AttemptRow = Record<string, unknown>;

interface SqliteFastPath {
  /** Group commit of the hot-path writes (one transaction per event-loop turn). */
  writer: SqliteWriteBatch;
  statements: SqliteAttemptStatements;
  countAttempts: Statement;
}

/** The rows of a PostgreSQL UPDATE or DELETE … RETURNING: TypeORM answers `[rows, affected]` for those. */
function returnedRows<T>(result: unknown): T[] {
  return Array.isArray(result) && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}

/** Claim order: the oldest due first, and among attempts due the same millisecond the oldest created (ids sort by creation). */
const byDueThenCreated = (a: WebhookAttempt, b: WebhookAttempt) =>
  (a.nextAttemptAt?.getTime() ?? 0) - (b.nextAttemptAt?.getTime() ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A subscription's attempts of one status. On SQLite the condition steers the planner: for a resolved status it
 * also says `status <> 'pending'` literally (the predicate of idx_webhook_attempt_resolved), and for `pending` it
 * reads `+status` (so the due index, led by the status, is not walked through every subscription's pending
 * attempts). PostgreSQL plans from its statistics and gets the plain condition.
 */
function statusIs(status: WebhookAttempt['status'], sqlite: boolean): FindOperator<WebhookAttempt['status']> | WebhookAttempt['status'] {
  if (!sqlite) return status;
  if (status === 'pending') return Raw((column) => `+${column} = 'pending'`);
  return Raw((column) => `(${column} = :status AND ${column} <> 'pending')`, { status });
}

function toSecretRecord(secret: StoredSigningSecret): SecretRecord {
  return { id: secret.id, secret: secret.secret, createdAt: secret.createdAt.getTime(), expiresAt: secret.expiresAt?.getTime() ?? null };
}

function errorCode(error: unknown): string | undefined {
  return (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (error as { code?: string })?.code;
}

/**
 * Worth running again as it was: SQLite's busy database, or PostgreSQL ending one of two transactions that waited for
 * each other (deadlock_detected) or a serialization failure. Nothing of the failed statement or transaction stays.
 */
function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '40P01' || code === '40001';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` again, with backoff, while the database reports a busy file or a deadlock, up to a limit. */
async function retryWhileTransient<T>(work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || Date.now() - started > BUSY_RETRY_LIMIT_MS) throw error;
      await sleep(delay);
    }
  }
}

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
export class TypeOrmWebhookStore extends WebhookStore {
  private readonly logger = new Logger('TypeOrmWebhookStore');
  private own!: DataSource;
  private ownedConnection = false;
  /**
   * Where subscription changes run their transactions. On PostgreSQL the store's own DataSource (a pool); on SQLite
   * a third connection, because a transaction spans several turns of the event loop and the store's own connection
   * commits a batch of hot-path writes every turn.
   */
  private changes!: DataSource;
  /** SQLite: the transactions on `changes`, one after the other. */
  private changesQueue: Promise<unknown> = Promise.resolve();
  private nextClaimableRepair = 0;
  private signals?: PostgresSignals;
  private cipher!: SecretCipher;
  private ready: Promise<void> | null = null;
  private isPostgres = false;
  private app!: DataSource;
  /** Prepared statements and group commit for the hot writes on SQLite (undefined on other databases). */
  private sqlite?: SqliteFastPath;
  /** Group commit of try outcomes on PostgreSQL. */
  private postgresTries?: PostgresTryBatch;
  /** The entity TypeORM would hydrate from a raw `webhook_attempt` row (same column transformers), without a query builder. */
  private decodeAttempt!: (row: AttemptRow) => WebhookAttemptEntity;
  private checkpointer?: WalCheckpointer;

  /** `dataSource` is resolved on first use: TypeORM's provider may still be initializing when this is built. */
  constructor(
    private readonly dataSource: () => DataSource,
    private readonly options: ResolvedWebhooksOptions,
  ) {
    super();
  }

  override initialize(): Promise<void> {
    this.ready ??= this.open();
    return this.ready;
  }

  private async open(): Promise<void> {
    if (this.options.secrets.encryptionKeys.length === 0) {
      throw new Error(
        'The TypeORM webhook store encrypts signing secrets at rest and needs a key: set secrets.encryptionKeys in WebhooksModule options, or WEBHOOKS_SECRET_KEY (base64 of 32 bytes)',
      );
    }
    this.cipher = new SecretCipher(this.options.secrets.encryptionKeys);
    this.app = this.dataSource();
    if (!this.app.isInitialized) await this.app.initialize();
    const type = this.app.options.type;
    this.isPostgres = type === 'postgres';
    const hasEntities = this.app.hasMetadata(WebhookAttemptEntity) && this.app.hasMetadata(WebhookSubscriptionEntity);
    let walConnection: Database | undefined;
    let walFile = '';
    if (type === 'better-sqlite3' || (type as string) === 'sqlite') {
      const database = (this.app.options as { database?: string }).database;
      walFile = database ?? '';
      if (!database || database === ':memory:') {
        throw new Error('The TypeORM webhook store needs a SQLite file database (not :memory:), because it opens a second connection to it');
      }
      this.own = new DataSource({
        type: 'better-sqlite3',
        database,
        entities: WEBHOOK_ENTITIES,
        timeout: 0,
        enableWAL: (this.app.options as { enableWAL?: boolean }).enableWAL,
      });
      await this.own.initialize();
      this.ownedConnection = true;
      const db = (this.own.driver as unknown as { databaseConnection: Database }).databaseConnection;
      if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal') {
        // In WAL mode NORMAL loses nothing when a process crashes (only, on power loss, the last commits of this
        // connection: delivery results, which at worst resends a delivery). The application's own connection,
        // which writes the outbox rows of its transactions, keeps its own setting.
        db.pragma('synchronous = NORMAL');
        walConnection = db;
      }
      this.changes = new DataSource({ type: 'better-sqlite3', database, entities: WEBHOOK_ENTITIES, timeout: 0 });
      await this.changes.initialize();
    } else if (hasEntities) {
      this.own = this.app;
    } else {
      this.own = new DataSource({
        ...this.app.options,
        entities: WEBHOOK_ENTITIES,
        migrations: [],
        subscribers: [],
        migrationsRun: false,
        synchronize: false,
        ...(this.isPostgres ? { extra: withPostgresClientGuard(this.app.options.extra as Record<string, unknown> | undefined) } : {}),
      } as typeof this.app.options);
      await this.own.initialize();
      this.ownedConnection = true;
    }
    this.changes ??= this.own;
    if (!hasEntities) {
      this.logger.warn('The application DataSource does not list WEBHOOK_ENTITIES: attempts cannot join its transactions (no outbox atomicity)');
    }
    try {
      // Another instance may hold the file's write lock right now, running the migrations.
      await retryWhileTransient(async () => {
        await this.own.getRepository(WebhookSubscriptionEntity).count({ take: 1 });
        await ensureRegistryRow(this.own.manager, this.isPostgres);
      });
    } catch (error) {
      throw new Error(`The webhook tables are missing or out of date; add WEBHOOK_MIGRATIONS to your DataSource's migrations and run them (${(error as Error).message})`);
    }
    if (this.sqlite === undefined && walFile !== '') {
      const db = (this.own.driver as unknown as { databaseConnection: Database }).databaseConnection;
      this.sqlite = this.prepareSqliteFastPath(db);
    }
    this.decodeAttempt = this.attemptDecoder();
    if (this.isPostgres) {
      this.signals = new PostgresSignals(() => (this.own.driver as unknown as { master: never }).master);
      this.postgresTries = new PostgresTryBatch(async (sql, parameters) => returnedRows(await this.run((ds) => ds.query(sql, parameters))));
    }
    // Started last, so a failed start-up leaves no thread behind.
    if (walConnection) this.startCheckpointer(walFile);
  }

  override async close(): Promise<void> {
    this.signals?.close();
    await this.sqlite?.writer.close();
    await this.checkpointer?.stop();
    if (this.changes !== this.own && this.changes?.isInitialized) await this.changes.destroy();
    if (this.ownedConnection && this.own?.isInitialized) await this.own.destroy();
  }

  override get shared(): boolean {
    return true;
  }

  override watch(listener: (signal: StoreSignal) => void): () => void {
    return this.signals?.listen(listener) ?? (() => undefined);
  }

  /** Moves this connection's WAL checkpoints (page copies and fsyncs) off the event loop, into a worker thread. */
  private startCheckpointer(databaseFile: string): void {
    const checkpointer = new WalCheckpointer();
    const started = checkpointer.start(databaseFile, (error) => {
      this.logger.warn(`WAL checkpoints run on the store's connection again: ${(error as Error)?.message ?? String(error)}`);
      this.sqlite?.writer.setAutoCheckpoint(SQLITE_DEFAULT_AUTOCHECKPOINT);
    });
    if (!started) return;
    this.sqlite?.writer.setAutoCheckpoint(0);
    this.checkpointer = checkpointer;
  }

  sharesTransactionsWith(manager: WebhookEntityManager): boolean {
    return !!this.app && manager.connection === this.app && this.app.hasMetadata(WebhookAttemptEntity);
  }

  /** Runs one of the store's own statements, retrying while SQLite reports the database busy. */
  private async run<T>(work: (ds: DataSource) => Promise<T>): Promise<T> {
    await this.initialize();
    return retryWhileTransient(() => work(this.own));
  }

  /**
   * Runs a subscription change in one transaction whose first statement raises the registry version; `work` gets
   * the new version, which the rows it writes carry as their revision. Retried while SQLite reports the database
   * busy (the whole transaction: nothing of a failed one was committed).
   */
  private async change<T>(work: (manager: EntityManager, version: number) => Promise<T>): Promise<T> {
    try {
      return await this.inTransaction(async (manager) => {
        // An outbox transaction holds the version row until it commits: wait a bounded time for it, never forever
        // (one that publishes and then changes a subscription on this connection's behalf would wait for itself).
        if (this.isPostgres) await manager.query(`SET LOCAL lock_timeout = '${CHANGE_LOCK_TIMEOUT_MS}ms'`);
        return work(manager, await raiseRegistryVersion(manager, this.isPostgres));
      });
    } catch (error) {
      if (errorCode(error) === '55P03') throw new WebhookRegistryLockTimeoutError(CHANGE_LOCK_TIMEOUT_MS);
      throw error;
    }
  }

  /**
   * A transaction on the `changes` connection, retried while SQLite reports the database busy (the whole
   * transaction: nothing of a failed one was committed). On SQLite that is one connection, and TypeORM gives every
   * caller the same query runner: transactions on it run one at a time, or a second BEGIN would fail and its
   * rollback end the first one's transaction.
   */
  private inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      await this.initialize();
      return retryWhileTransient(() => this.changes.transaction(work));
    };
    if (this.isPostgres) return run();
    const result = this.changesQueue.then(run);
    this.changesQueue = result.catch(() => undefined);
    return result;
  }

  private subscriptions(ds: DataSource | EntityManager) {
    return ds.getRepository(WebhookSubscriptionEntity);
  }

  private attempts(ds: DataSource | EntityManager) {
    return ds.getRepository(WebhookAttemptEntity);
  }

  // ---------------------------------------------------------------- subscriptions

  // ---------------------------------------------------------------- registry

  async registryVersion(context: StoreWriteContext = {}): Promise<number> {
    const manager = this.transactionOf(context);
    if (manager) return readRegistryVersion(manager, this.isPostgres);
    if (this.sqlite) return Number(this.sqlite.statements.registryVersion.get() ?? 0);
    return this.run((ds) => readRegistryVersion(ds.manager, false));
  }

  async subscriptionChanges(since: number, context: StoreWriteContext = {}): Promise<SubscriptionChanges> {
    const manager = this.transactionOf(context);
    const read = manager
      ? await readSubscriptionChanges(manager, since)
      : // One read transaction, on the connection of the changes (on SQLite the store's own connection commits a
        // batch of hot-path writes every turn, which must never end up inside it).
        await this.inTransaction((m) => readSubscriptionChanges(m, since));
    return { version: read.version, changed: read.changed.map(toSubscription), deleted: read.deleted, complete: read.complete };
  }

  override registryVersionNow(): number | undefined {
    // Between turns the store's SQLite connection holds no transaction: this reads the latest commit.
    return this.sqlite ? Number(this.sqlite.statements.registryVersion.get() ?? 0) : undefined;
  }

  /** `context.manager` when it is in a transaction of this store's database. */
  private transactionOf(context: StoreWriteContext): EntityManager | undefined {
    const manager = context.manager && toEntityManager(context.manager);
    return manager?.queryRunner?.isTransactionActive && this.sharesTransactionsWith(manager) ? manager : undefined;
  }

  // ---------------------------------------------------------------- subscriptions

  async insertSubscription(subscription: WebhookSubscription, credentials: SubscriptionCredentials): Promise<WebhookSubscription> {
    const sealed = this.seal(subscription.id, { secrets: credentials.secrets.map(toSecretRecord), headers: credentials.headers });
    return this.change(async (manager, version) => {
      const entity = toSubscriptionEntity(subscription, sealed, version);
      await this.subscriptions(manager).insert(entity);
      return toSubscription(entity);
    });
  }

  async updateSubscription(id: string, patch: SubscriptionPatch, options: SubscriptionUpdateOptions = {}): Promise<WebhookSubscription | null> {
    const values: Partial<WebhookSubscriptionEntity> = { ...patch } as Partial<WebhookSubscriptionEntity>;
    if (patch.payloadType !== undefined && typeof patch.payloadType !== 'string' && patch.payloadType !== null) {
      throw new Error('Stored subscriptions keep payload types by name');
    }
    return this.change(async (manager, version) => {
      const result = await this.subscriptions(manager).update({ id }, { ...values, revision: version });
      if ((result.affected ?? 0) === 0) return null;
      if (options.headers) await this.updateSealed(manager, id, (sealed) => ({ ...sealed, headers: { ...options.headers } }));
      if (options.cancelPending) {
        const { message, now } = options.cancelPending;
        await this.attempts(manager).update(
          { subscriptionId: id, status: statusIs('pending', this.sqlite !== undefined) },
          { status: 'failed', message, nextAttemptAt: null, leaseOwner: null, leaseExpiresAt: null, claimableAt: null, updatedAt: now },
        );
      }
      const entity = await this.subscriptions(manager).findOneBy({ id });
      return entity ? toSubscription(entity) : null;
    });
  }

  async deleteSubscription(id: string): Promise<number | null> {
    return this.change(async (manager, version) => {
      const result = await this.subscriptions(manager).delete({ id });
      if ((result.affected ?? 0) === 0) return null;
      await this.attempts(manager).delete({ subscriptionId: id });
      await addTombstone(manager, id, version);
      return version;
    });
  }

  async findSubscription(id: string): Promise<WebhookSubscription | null> {
    const entity = await this.run((ds) => this.subscriptions(ds).findOneBy({ id }));
    return entity ? toSubscription(entity) : null;
  }

  async listSubscriptions(query: SubscriptionQuery = {}): Promise<WebhookSubscription[]> {
    const entities = await this.run((ds) =>
      this.subscriptions(ds).find({
        where: query.ownerId !== undefined ? { ownerId: query.ownerId } : {},
        order: { createdAt: 'ASC', id: 'ASC' },
        skip: query.offset,
        take: query.limit,
      }),
    );
    return entities.map((e) => toSubscription(e));
  }

  async incrementPreconditionFailures(id: string): Promise<number> {
    // Not a registry change: the counter matters to this subscription's deactivation only, which is one.
    await this.run((ds) => this.subscriptions(ds).increment({ id }, 'preconditionFailures', 1));
    const entity = await this.run((ds) => this.subscriptions(ds).findOne({ where: { id }, select: { id: true, preconditionFailures: true } }));
    return entity?.preconditionFailures ?? 0;
  }

  // ---------------------------------------------------------------- credentials

  async addSecret(secret: StoredSigningSecret, expireOthersAt: Date): Promise<number | null> {
    return this.change(async (manager, version) => {
      const found = await this.updateSealed(manager, secret.subscriptionId, (sealed) => ({
        ...sealed,
        secrets: [
          toSecretRecord(secret),
          ...sealed.secrets.map((s) => ({
            ...s,
            expiresAt: s.expiresAt !== null && s.expiresAt < expireOthersAt.getTime() ? s.expiresAt : expireOthersAt.getTime(),
          })),
        ],
      }));
      if (!found) return null;
      await this.subscriptions(manager).update({ id: secret.subscriptionId }, { revision: version });
      return version;
    });
  }

  async credentials(subscriptionIds: readonly string[]): Promise<Map<string, SubscriptionCredentials>> {
    const result = new Map<string, SubscriptionCredentials>();
    if (subscriptionIds.length === 0) return result;
    const rows = await this.run((ds) => this.subscriptions(ds).find({ where: { id: In([...subscriptionIds]) }, select: { id: true, secrets: true } }));
    for (const row of rows) {
      let sealed: SealedCredentials;
      try {
        sealed = this.unseal(row.id, row.secrets);
      } catch (error) {
        result.set(row.id, { secrets: [], headers: {}, unreadable: (error as Error).message });
        continue;
      }
      result.set(row.id, {
        secrets: sealed.secrets
          .sort((a, b) => b.createdAt - a.createdAt)
          .map((s) => ({
            id: s.id,
            subscriptionId: row.id,
            secret: s.secret,
            createdAt: new Date(s.createdAt),
            expiresAt: s.expiresAt === null ? null : new Date(s.expiresAt),
          })),
        headers: sealed.headers,
      });
    }
    return result;
  }

  /** Re-encrypts every stored credential with the current (first) key; returns how many rows changed. */
  override async reencryptSecrets(): Promise<number> {
    const rows = await this.run((ds) => this.subscriptions(ds).find({ select: { id: true, secrets: true } }));
    let changed = 0;
    for (const row of rows) {
      if (this.cipher.keyIdOf(row.secrets) === this.cipher.currentKeyId) continue;
      const next = this.seal(row.id, this.unseal(row.id, row.secrets));
      const result = await this.run((ds) => this.subscriptions(ds).update({ id: row.id, secrets: row.secrets }, { secrets: next }));
      changed += result.affected ?? 0;
    }
    return changed;
  }

  /**
   * Read-modify-write of the sealed credentials inside a change's transaction (which holds the registry version
   * row, so no other change runs meanwhile). Returns false when the subscription does not exist.
   */
  private async updateSealed(manager: EntityManager, subscriptionId: string, change: (sealed: SealedCredentials) => SealedCredentials): Promise<boolean> {
    const row = await this.subscriptions(manager).findOne({ where: { id: subscriptionId }, select: { id: true, secrets: true } });
    if (!row) return false;
    await this.subscriptions(manager).update({ id: row.id }, { secrets: this.seal(row.id, change(this.unseal(row.id, row.secrets))) });
    return true;
  }

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

  private async writeOutboxPostgres(write: OutboxWrite, manager: EntityManager | undefined): Promise<OutboxWriteResult> {
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
  private async insertWithTypeOrm(attempts: readonly WebhookAttempt[], manager: EntityManager | undefined, claim?: AttemptClaim): Promise<WebhookAttempt[]> {
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
  private withManager<T>(manager: EntityManager | undefined, work: (m: EntityManager) => Promise<T>): Promise<T> {
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
  private attemptDecoder(): (row: AttemptRow) => WebhookAttemptEntity {
    const columns = this.own.getMetadata(WebhookAttemptEntity).columns.map((c) => ({
      property: c.propertyName,
      column: c.databaseName,
      from: (c.transformer as ValueTransformer | undefined)?.from,
    }));
    return (row) => {
      const entity: Record<string, unknown> = {};
      for (const { property, column, from } of columns) entity[property] = from ? from(row[column]) : row[column];
      return entity as unknown as WebhookAttemptEntity;
    };
  }

  private prepareSqliteFastPath(db: Database): SqliteFastPath {
    const statements = new SqliteAttemptStatements(db);
    return {
      writer: new SqliteWriteBatch(db, statements),
      statements,
      // One statement, so one consistent read. All rows are counted on idx_webhook_attempt_subscription (index
      // only), the resolved ones (at most about `attemptLimit`) on idx_webhook_attempt_resolved; pending is the rest.
      countAttempts: db.prepare(
        `SELECT (SELECT COUNT(*) FROM webhook_attempt WHERE subscription_id = @subscriptionId) AS total,
           (SELECT COUNT(*) FROM webhook_attempt WHERE subscription_id = @subscriptionId AND status <> 'pending' AND status = 'failed') AS failed,
           (SELECT COUNT(*) FROM webhook_attempt WHERE subscription_id = @subscriptionId AND status <> 'pending' AND status = 'successful') AS successful`,
      ),
    };
  }

  // ---------------------------------------------------------------- mapping

  private seal(subscriptionId: string, credentials: SealedCredentials): string {
    // The subscription id is authenticated with the ciphertext, so a value copied to another row fails.
    return this.cipher.encrypt(JSON.stringify(credentials), subscriptionId);
  }

  private unseal(subscriptionId: string, value: string): SealedCredentials {
    return JSON.parse(this.cipher.decrypt(value, subscriptionId)) as SealedCredentials;
  }
}
