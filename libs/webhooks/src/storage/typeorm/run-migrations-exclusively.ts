import type { Database } from 'better-sqlite3';
import type { DataSource, Migration } from 'typeorm';

/** Advisory lock key of migration runs (PostgreSQL): the same in every process of every application version. */
const POSTGRES_LOCK = "hashtext('nest-webhooks: migrations')";
const SQLITE_LOCK_TIMEOUT_MS = 120_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isBusy = (error: unknown) => /SQLITE_BUSY|database is locked/i.test(String((error as { code?: string })?.code ?? (error as Error)?.message));

/**
 * Runs the DataSource's pending migrations while holding a lock that every other process doing the same waits
 * for, so several instances started at once on an empty database do not race (TypeORM's `migrationsRun` has no
 * lock: two processes create the same tables, and one fails). The second process finds nothing left to run.
 *
 * - PostgreSQL: a session advisory lock on a connection of its own, released at the end (or when the
 *   connection drops, if the process dies).
 * - SQLite: the file's write lock (`BEGIN IMMEDIATE`) on the DataSource's connection, with the migrations run
 *   inside that transaction.
 *
 * Use it instead of `migrationsRun: true`, for example with `TypeOrmModule.forRootAsync({ dataSourceFactory })`.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<Migration[]> {
  if (!dataSource.isInitialized) await dataSource.initialize();
  const type = dataSource.options.type;
  if (type === 'postgres') {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query(`SELECT pg_advisory_lock(${POSTGRES_LOCK})`);
      try {
        return await dataSource.runMigrations({ transaction: 'each' });
      } finally {
        await runner.query(`SELECT pg_advisory_unlock(${POSTGRES_LOCK})`);
      }
    } finally {
      await runner.release();
    }
  }
  if (type === 'better-sqlite3') {
    const db = (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection;
    const deadline = Date.now() + SQLITE_LOCK_TIMEOUT_MS;
    for (let delay = 5; ; delay = Math.min(delay * 2, 200)) {
      try {
        db.exec('BEGIN IMMEDIATE');
        break;
      } catch (error) {
        if (!isBusy(error) || Date.now() > deadline) throw error;
        await sleep(delay);
      }
    }
    try {
      const applied = await dataSource.runMigrations({ transaction: 'none' });
      db.exec('COMMIT');
      return applied;
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }
  return dataSource.runMigrations();
}
