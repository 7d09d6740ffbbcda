import Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { WalCheckpointer } from '../../libs/webhooks/src/storage/typeorm/wal-checkpointer.js';
import { tempSqliteFile } from '../support/sqlite.js';

describe('WAL checkpoints in a worker thread', () => {
  it('copy what a connection without automatic checkpoints committed into the database file', async () => {
    const file = tempSqliteFile();
    const db = new Database(file.path);
    const checkpointer = new WalCheckpointer();
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('wal_autocheckpoint = 0');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
      db.transaction(() => {
        for (let i = 0; i < 500; i++) insert.run('x'.repeat(2000));
      })();
      const before = statSync(file.path).size;
      const failure = vi.fn();
      expect(checkpointer.start(file.path, failure)).toBe(true);
      await vi.waitFor(() => expect(statSync(file.path).size).toBeGreaterThan(before + 500 * 2000), { timeout: 10_000, interval: 50 });
      expect(failure).not.toHaveBeenCalled();
    } finally {
      await checkpointer.stop();
      db.close();
      file.cleanup();
    }
  });

  it('report a worker that cannot run, so the caller can checkpoint itself again', async () => {
    const checkpointer = new WalCheckpointer();
    const failure = vi.fn();
    expect(checkpointer.start('/nonexistent-directory/webhooks.sqlite', failure)).toBe(true);
    await vi.waitFor(() => expect(failure).toHaveBeenCalledTimes(1), { timeout: 10_000, interval: 50 });
    await checkpointer.stop();
  });
});
