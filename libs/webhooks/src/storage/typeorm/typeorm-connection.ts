import { Logger } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { DataSource, type EntityManager, type ValueTransformer } from 'typeorm';
import { WebhookRegistryLockTimeoutError } from '../../core/subscription.errors.js';
import { toEntityManager } from '../../core/to-entity-manager.js';
import type { WebhookEntityManager } from '../../core/webhook-entity-manager.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import { SecretCipher } from '../../secrets/secret-cipher.js';
import { type StoreSignal, type StoreWriteContext, WebhookStore } from '../webhook-store.js';
import { attemptJson } from './attempt-json-columns.js';
import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { WEBHOOK_ENTITIES } from './index.js';
import { PostgresTryBatch } from './postgres-attempt-writes.js';
import { withPostgresClientGuard } from './postgres-client-guard.js';
import { PostgresSignals } from './postgres-signals.js';
import { ensureRegistryRow, raiseRegistryVersion } from './registry-sql.js';
import { SqliteAttemptStatements } from './sqlite-attempt-writes.js';
import { SqliteWriteBatch } from './sqlite-write-batch.js';
import { errorCode, retryWhileTransient } from './transient-errors.js';
import { WalCheckpointer } from './wal-checkpointer.js';

/** How long a subscription change waits for transactions that published webhooks (PostgreSQL). */
const CHANGE_LOCK_TIMEOUT_MS = 5000;
/** SQLite's own `wal_autocheckpoint` default, in pages. */
const SQLITE_DEFAULT_AUTOCHECKPOINT = 1000;

/** A `webhook_attempt` row as better-sqlite3 returns it: column names to raw values. */
export type AttemptRow = Record<string, unknown>;

interface SqliteFastPath {
  /** Group commit of the hot-path writes (one transaction per event-loop turn). */
  writer: SqliteWriteBatch;
  statements: SqliteAttemptStatements;
  countAttempts: Statement;
}

/** The rows of a PostgreSQL UPDATE or DELETE … RETURNING: TypeORM answers `[rows, affected]` for those. */
export function returnedRows<T>(result: unknown): T[] {
  return Array.isArray(result) && Array.isArray(result[0]) && typeof result[1] === 'number' ? (result[0] as T[]) : (result as T[]);
}

/**
 * The TypeORM store's connections: the application's DataSource (whose transactions attempts join), the store's
 * own connection for its single statements, and the one subscription changes run their transactions on; with the
 * engine-specific parts chosen once when they open (SQLite's prepared statements, group commit and WAL checkpoints
 * off the event loop; PostgreSQL's signals and batched try outcomes).
 */
export abstract class TypeOrmConnection extends WebhookStore {
  protected readonly logger = new Logger('TypeOrmWebhookStore');
  protected own!: DataSource;
  protected ownedConnection = false;
  /**
   * Where subscription changes run their transactions. On PostgreSQL the store's own DataSource (a pool); on SQLite
   * a third connection, because a transaction spans several turns of the event loop and the store's own connection
   * commits a batch of hot-path writes every turn.
   */
  protected changes!: DataSource;
  /** SQLite: the transactions on `changes`, one after the other. */
  protected changesQueue: Promise<unknown> = Promise.resolve();
  protected signals?: PostgresSignals;
  protected cipher!: SecretCipher;
  protected ready: Promise<void> | null = null;
  protected isPostgres = false;
  protected app!: DataSource;
  /** Prepared statements and group commit for the hot writes on SQLite (undefined on other databases). */
  protected sqlite?: SqliteFastPath;
  /** Group commit of try outcomes on PostgreSQL. */
  protected postgresTries?: PostgresTryBatch;
  /** The entity TypeORM would hydrate from a raw `webhook_attempt` row (same column transformers), without a query builder. */
  protected decodeAttempt!: (row: AttemptRow) => WebhookAttemptEntity;
  protected checkpointer?: WalCheckpointer;

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

  protected async open(): Promise<void> {
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
  protected startCheckpointer(databaseFile: string): void {
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
  protected async run<T>(work: (ds: DataSource) => Promise<T>): Promise<T> {
    await this.initialize();
    return retryWhileTransient(() => work(this.own));
  }

  /**
   * Runs a subscription change in one transaction whose first statement raises the registry version; `work` gets
   * the new version, which the rows it writes carry as their revision. Retried while SQLite reports the database
   * busy (the whole transaction: nothing of a failed one was committed).
   */
  protected async change<T>(work: (manager: EntityManager, version: number) => Promise<T>): Promise<T> {
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
  protected inTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      await this.initialize();
      return retryWhileTransient(() => this.changes.transaction(work));
    };
    if (this.isPostgres) return run();
    const result = this.changesQueue.then(run);
    this.changesQueue = result.catch(() => undefined);
    return result;
  }

  protected subscriptions(ds: DataSource | EntityManager) {
    return ds.getRepository(WebhookSubscriptionEntity);
  }

  protected attempts(ds: DataSource | EntityManager) {
    return ds.getRepository(WebhookAttemptEntity);
  }


  /** `context.manager` when it is in a transaction of this store's database. */
  protected transactionOf(context: StoreWriteContext): EntityManager | undefined {
    const manager = context.manager && toEntityManager(context.manager);
    return manager?.queryRunner?.isTransactionActive && this.sharesTransactionsWith(manager) ? manager : undefined;
  }

  protected attemptDecoder(): (row: AttemptRow) => WebhookAttemptEntity {
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

  protected prepareSqliteFastPath(db: Database): SqliteFastPath {
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
}
