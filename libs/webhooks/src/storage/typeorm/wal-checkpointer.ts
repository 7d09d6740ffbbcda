import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

/** How often the worker checkpoints while the WAL is short. */
const IDLE_INTERVAL_MS = 100;
/** A WAL this long (in pages; SQLite's own auto-checkpoint threshold) is checkpointed again at once. */
const LONG_WAL_PAGES = 1000;
/** Rounds (about 1 ms each) a long WAL may stay unchanged before the worker goes back to the idle interval. */
const MAX_UNCHANGED_ROUNDS = 50;

/**
 * The worker: its own connection to the file, and PASSIVE checkpoints, which never wait for or block the
 * writers. A writer restarts the WAL from its beginning only when it starts after a checkpoint that copied every
 * frame; under a steady stream of commits that needs a checkpoint with little to copy, so while the WAL is long
 * the worker checkpoints again right away (each round copies only what was committed during the last one).
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
let previous = { log: -1, checkpointed: -1 };
let unchanged = 0;
let failures = 0;
const checkpoint = () => {
  let next = workerData.idleIntervalMs;
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
    // Again at once while the WAL is long (writers are active, and a writer restarts the WAL only after a
    // checkpoint that left little to copy) — unless it has not changed for a while (fully copied, or held back
    // by a reader, with nobody writing): then the idle interval, instead of spinning.
    unchanged = result.log === previous.log && result.checkpointed === previous.checkpointed ? unchanged + 1 : 0;
    if (result.log >= workerData.longWalPages && unchanged < workerData.maxUnchangedRounds) next = 1;
    previous = result;
  } catch (error) {
    // Busy or locked: the next round tries again. Anything else, repeatedly: end the thread, so the store's
    // connection checkpoints by itself again.
    const busy = /BUSY|LOCKED/.test(String(error && error.code));
    if (!busy && ++failures >= 10) throw error;
  }
  setTimeout(checkpoint, next);
};
setTimeout(checkpoint, workerData.idleIntervalMs);
`;

/**
 * Runs the WAL checkpoints of a SQLite database in a worker thread instead of in the writing connection.
 *
 * With SQLite's automatic checkpoint, every ~1000 pages one commit of the store's connection copies the WAL into
 * the database file and fsyncs both, which blocks the event loop for milliseconds, a large share of the time the
 * store's group commits hold it at saturation (docs/performance.md). A checkpoint only moves
 * already committed pages, so doing it elsewhere changes nothing about durability. The caller turns automatic
 * checkpoints off on its connection only once `start` succeeded, and turns them back on if the worker stops by
 * itself (`onFailure`), so the WAL never grows without bound.
 */
export class WalCheckpointer {
  private worker: Worker | null = null;
  private stopping = false;

  /** Starts the worker; returns false (and starts nothing) when the driver cannot be loaded from here. */
  start(databaseFile: string, onFailure: (error: unknown) => void): boolean {
    let driver: string;
    try {
      driver = createRequire(import.meta.url).resolve('better-sqlite3');
    } catch {
      return false;
    }
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver, file: resolve(databaseFile), idleIntervalMs: IDLE_INTERVAL_MS, longWalPages: LONG_WAL_PAGES, maxUnchangedRounds: MAX_UNCHANGED_ROUNDS },
    });
    worker.unref();
    let failed = false;
    const fail = (error: unknown) => {
      if (failed || this.stopping) return;
      failed = true;
      this.worker = null;
      onFailure(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The WAL checkpoint worker exited with code ${code}`)));
    this.worker = worker;
    return true;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
