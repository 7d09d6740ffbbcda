import { Logger } from '@nestjs/common';
import type { StoreWriteContext, SubscriptionChanges, WebhookStore } from '../storage/webhook-store.js';

/**
 * Keeps this process's registry of stored subscriptions at the store's registry version, which every committed
 * subscription change raises, in whichever process it was made. Reads of what changed are applied one at a
 * time, in the order they were asked for.
 *
 * - Phase 1 writes attempts only while the store is still at the version they were matched at (the store checks);
 *   when it is not, the dispatcher calls `refresh` inside the same transaction and matches again.
 * - Before each try the worker calls `fence`: it resolves once the registry has every change committed before
 *   the call, so a deactivated, deleted or re-pointed subscription gets no new try with its old state.
 */
export class RegistrySync {
  private readonly logger = new Logger('WebhookRegistrySync');
  /** Every change up to this version is applied (-1: nothing loaded yet). */
  private loaded = -1;
  private queue: Promise<void> = Promise.resolve();
  /** Callers of `fence` waiting for a check that has not started yet. */
  private waiting: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private checking = false;
  /** A synchronous read of the store's version, shared by the tries that start in this turn of the event loop. */
  private readThisTurn: number | undefined;

  constructor(
    private readonly store: WebhookStore,
    private readonly apply: (changes: SubscriptionChanges) => void,
  ) {}

  /** The registry version this process has every change of. */
  get version(): number {
    return this.loaded;
  }

  /**
   * Reads and applies what changed since the loaded version. Inside a transaction (`context.manager`) at once: that
   * transaction may hold the registry's version row, which the other reads' connections wait for, so it never waits
   * behind them. The others run one at a time. Applying is idempotent and ignores older news (by revision), so the
   * order in which reads finish does not matter.
   */
  refresh(context: StoreWriteContext = {}): Promise<void> {
    if (context.manager) return this.read(context);
    const run = this.queue.then(() => this.read({}));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(context: StoreWriteContext): Promise<void> {
    const changes = await this.store.subscriptionChanges(this.loaded, context);
    this.apply(changes);
    if (changes.version > this.loaded) this.loaded = changes.version;
  }

  /**
   * Resolves once every change committed before this call is applied; `undefined` when that is already so, known
   * synchronously (a store that reads its version without I/O, at the version this process has). Calls made before
   * a check starts share it; one check runs at a time. Rejects when the store cannot be read.
   */
  fence(): Promise<void> | undefined {
    if (this.readThisTurn === undefined) {
      this.readThisTurn = this.store.registryVersionNow();
      if (this.readThisTurn !== undefined) setImmediate(() => (this.readThisTurn = undefined));
    }
    if (this.readThisTurn === this.loaded) return undefined;
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.checking) return;
      this.checking = true;
      // Started after the current synchronous stretch: the tries it starts share one read.
      queueMicrotask(() => void this.check());
    });
  }

  /** This process committed a change at `version`: with every earlier one applied, it has this one too. */
  noteOwnChange(version: number): void {
    if (version === this.loaded + 1) this.loaded = version;
  }

  private async check(): Promise<void> {
    while (this.waiting.length > 0) {
      const waiting = this.waiting;
      this.waiting = [];
      try {
        const version = await this.store.registryVersion();
        if (version !== this.loaded) await this.refresh();
        for (const waiter of waiting) waiter.resolve();
      } catch (error) {
        this.logger.warn(`Checking the subscription registry failed: ${(error as Error)?.message ?? String(error)}`);
        for (const waiter of waiting) waiter.reject(error);
      }
    }
    this.checking = false;
  }
}
