import type { Database } from 'better-sqlite3';
import type { AttemptWrite, AttemptWriteResult, SqliteAttemptStatements } from './sqlite-attempt-writes.js';

interface Pending {
  write: AttemptWrite;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

const BUSY_CODES = new Set(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT']);
const GIVE_UP_AFTER_MS = 30_000;

const isBusy = (error: unknown) => BUSY_CODES.has((error as { code?: string })?.code ?? '');

/**
 * Group commit for the store's own SQLite connection: writes submitted during one turn of the event loop run
 * in one synchronous transaction (one commit, one WAL sync, instead of one per write). Each caller's promise
 * settles only after that commit, so nothing is reported written before it is. Being synchronous, a batch never
 * interleaves with the application's own transactions in this process; when another process holds the write
 * lock, the batch is retried with backoff (the connection never busy-waits, which would block the event loop).
 */
export class SqliteWriteBatch {
  private queue: Pending[] = [];
  private scheduled = false;
  private busySince = 0;
  private delay = 1;

  constructor(
    private readonly db: Database,
    private readonly statements: SqliteAttemptStatements,
  ) {}

  /** Runs `write` in the next group commit; resolves with its result after the commit. */
  submit<W extends AttemptWrite>(write: W): Promise<AttemptWriteResult<W>> {
    return new Promise<AttemptWriteResult<W>>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (result: unknown) => void, reject });
      this.schedule(0);
    });
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => {
      this.scheduled = false;
      this.flush();
    };
    if (delayMs > 0) setTimeout(flush, delayMs);
    else setImmediate(flush);
  }

  private flush(): void {
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    try {
      // IMMEDIATE: the write lock is taken first, so what the batch reads (the registry version) holds until it commits.
      const results = this.db.transaction(() => batch.map((p) => this.statements.run(p.write))).immediate();
      this.busySince = 0;
      this.delay = 1;
      batch.forEach((p, i) => p.resolve(results[i]!));
    } catch (error) {
      if (isBusy(error) && (this.busySince === 0 || Date.now() - this.busySince < GIVE_UP_AFTER_MS)) {
        this.busySince ||= Date.now();
        this.queue = [...batch, ...this.queue];
        this.delay = Math.min(this.delay * 2, 100);
        this.schedule(this.delay);
        return;
      }
      this.busySince = 0;
      // One bad write must not fail the others: run each alone to report its own outcome.
      for (const p of batch) {
        try {
          p.resolve(this.db.transaction(() => this.statements.run(p.write)).immediate());
        } catch (single) {
          p.reject(single);
        }
      }
    }
  }

  /** Sets the connection's `wal_autocheckpoint` (0 while the checkpoint worker does it). */
  setAutoCheckpoint(pages: number): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${pages}`);
  }

  /** Commits what is queued now, before the connection closes (the scheduled flush then finds nothing). */
  async close(): Promise<void> {
    if (this.queue.length > 0) this.flush();
  }
}
