import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModuleRef } from '@nestjs/core';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { toEntityManager } from '../core/to-entity-manager.js';
import type { WebhookEntityManager } from '../core/webhook-entity-manager.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';

/** Work tied to a transaction: done before its outermost commit, after it, or dropped on rollback. */
export interface TransactionWork {
  /** Runs inside the transaction just before the outermost COMMIT; a throw fails the commit. */
  beforeCommit?(manager: WebhookEntityManager): Promise<void>;
  /** Runs after the outermost COMMIT succeeded; must not throw. */
  afterCommit?(): void;
}

interface Enlisted {
  depth: number;
  work: TransactionWork;
}

const OUTBOX = Symbol('nest-webhooks:transaction-outbox');
const STATE = Symbol('nest-webhooks:transaction-state');
type RunnerData = Record<PropertyKey, unknown> & { [OUTBOX]?: Enlisted[]; [STATE]?: Map<unknown, unknown> };

/** The nesting depth of a query runner's transaction (1 = outermost; TypeORM does not type it publicly). */
const depthOf = (runner: QueryRunner): number => (runner as unknown as { transactionDepth: number }).transactionDepth;

/** Shape of `TransactionHost` from `@nestjs-cls/transactional` that is used here. */
interface TransactionHostLike {
  isTransactionActive(): boolean;
  readonly tx: unknown;
}

/**
 * Ties webhook work to the application's TypeORM transactions. It finds the active transaction of
 * `@nestjs-cls/transactional` (when installed), and subscribes to the transaction events of each DataSource it
 * sees, keeping enlisted work in `queryRunner.data` per nesting depth: a savepoint rollback drops the work of
 * that savepoint, the outermost commit runs it, the outermost rollback drops everything. The entry in
 * `queryRunner.data` is removed at the end (TypeORM does not clear it, and SQLite reuses one query runner).
 */
@Injectable()
export class WebhookTransactions implements OnModuleInit {
  private readonly logger = new Logger('WebhookTransactions');
  private readonly attached = new WeakSet<DataSource>();
  private host: TransactionHostLike | null = null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly moduleRef: ModuleRef,
    private readonly discovery: DiscoveryService,
  ) {}

  onModuleInit(): void {
    const token = this.options.transactions.transactionHostToken;
    if (token === false) return;
    if (token !== undefined) {
      try {
        this.host = this.moduleRef.get(token, { strict: false }) as TransactionHostLike;
      } catch {
        throw new Error(`transactions.transactionHostToken ${String(token)} is not a provider`);
      }
      return;
    }
    this.host = this.findDefaultTransactionHost();
  }

  /**
   * The application's default `TransactionHost`, found among its providers rather than by importing
   * `@nestjs-cls/transactional`: importing it loads `nestjs-cls`, which enables an `AsyncLocalStorage` for the
   * whole process, and on Node 20 that makes every promise slower (docs/performance.md). An application that uses
   * `@Transactional()` registered the host.
   */
  private findDefaultTransactionHost(): TransactionHostLike | null {
    // By shape, not by class name (a bundler may rename classes): the default host is registered under its class;
    // hosts of named connections are registered under symbols and need `transactionHostToken`.
    for (const { token, instance } of this.discovery.getProviders()) {
      const host = instance as Partial<TransactionHostLike & { withTransaction: unknown }> | undefined;
      if (typeof token === 'function' && typeof host?.isTransactionActive === 'function' && typeof host.withTransaction === 'function') {
        return host as TransactionHostLike;
      }
    }
    return null;
  }

  /** The EntityManager of the transaction active in the current `@Transactional()` context, if any. */
  current(): WebhookEntityManager | null {
    try {
      if (!this.host?.isTransactionActive()) return null;
      const tx = this.host.tx as Partial<EntityManager> | undefined;
      return tx?.queryRunner?.isTransactionActive ? (tx as EntityManager) : null;
    } catch {
      return null;
    }
  }

  /** True when `manager` is inside an open transaction. */
  isActive(manager: WebhookEntityManager | undefined | null): manager is WebhookEntityManager {
    return !!manager && !!toEntityManager(manager).queryRunner?.isTransactionActive;
  }

  /** Enlists work in the transaction of `manager`; false when `manager` has no open transaction. */
  enlist(manager: WebhookEntityManager, work: TransactionWork): boolean {
    const { queryRunner: runner, connection } = toEntityManager(manager);
    if (!runner?.isTransactionActive) return false;
    this.attach(connection);
    const data = runner.data as RunnerData;
    (data[OUTBOX] ??= []).push({ depth: depthOf(runner), work });
    return true;
  }

  /**
   * A map that lives until `manager`'s outermost transaction commits or rolls back (then it is dropped), for work
   * that gathers what several enlisted items contribute; null when `manager` has no open transaction.
   */
  stateOf(manager: WebhookEntityManager): Map<unknown, unknown> | null {
    const runner = toEntityManager(manager).queryRunner;
    if (!runner?.isTransactionActive) return null;
    return ((runner.data as RunnerData)[STATE] ??= new Map());
  }

  private attach(dataSource: DataSource): void {
    if (this.attached.has(dataSource)) return;
    this.attached.add(dataSource);
    const subscriber: EntitySubscriberInterface = {
      beforeTransactionCommit: (event: TransactionCommitEvent) => this.beforeCommit(event.queryRunner),
      afterTransactionCommit: (event: TransactionCommitEvent) => this.afterCommit(event.queryRunner),
      beforeTransactionRollback: (event: TransactionRollbackEvent) => this.beforeRollback(event.queryRunner),
      afterTransactionRollback: (event: TransactionRollbackEvent) => this.afterRollback(event.queryRunner),
    };
    (dataSource.subscribers as EntitySubscriberInterface[]).push(subscriber);
  }

  private entries(runner: QueryRunner): Enlisted[] | undefined {
    return (runner.data as RunnerData | undefined)?.[OUTBOX];
  }

  private async beforeCommit(runner: QueryRunner): Promise<void> {
    const entries = this.entries(runner);
    if (!entries?.length) return;
    const depth = depthOf(runner);
    if (depth > 1) {
      // A savepoint is released: its work now belongs to the enclosing level.
      for (const entry of entries) if (entry.depth >= depth) entry.depth = depth - 1;
      return;
    }
    // Work may enlist more work (a flush that publishes); run until nothing new appears.
    for (let i = 0; i < entries.length; i++) await entries[i]!.work.beforeCommit?.(runner.manager);
  }

  private afterCommit(runner: QueryRunner): void {
    if (runner.isTransactionActive) return; // a savepoint was released, the transaction goes on
    const entries = this.entries(runner);
    delete (runner.data as RunnerData)[OUTBOX];
    delete (runner.data as RunnerData)[STATE];
    for (const entry of entries ?? []) {
      try {
        entry.work.afterCommit?.();
      } catch (error) {
        this.logger.error(`After-commit webhook work failed: ${(error as Error)?.stack ?? String(error)}`);
      }
    }
  }

  private beforeRollback(runner: QueryRunner): void {
    const entries = this.entries(runner);
    if (!entries) return;
    const depth = depthOf(runner);
    const kept = entries.filter((entry) => entry.depth < depth);
    (runner.data as RunnerData)[OUTBOX] = kept;
  }

  private afterRollback(runner: QueryRunner): void {
    if (runner.isTransactionActive) return;
    delete (runner.data as RunnerData)[OUTBOX];
    delete (runner.data as RunnerData)[STATE];
  }
}
