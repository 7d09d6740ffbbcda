import { createRequire } from 'node:module';

/** The few parts of better-sqlite3's API these tests use (the package ships no type declarations here). */
interface Statement {
  all(...params: unknown[]): Record<string, unknown>[];
  get(...params: unknown[]): Record<string, unknown> | undefined;
}
interface Connection {
  prepare(sql: string): Statement;
  close(): void;
}
type DatabaseConstructor = new (path: string, options: { readonly: boolean; fileMustExist: boolean }) => Connection;

const Database = createRequire(import.meta.url)('better-sqlite3') as DatabaseConstructor;

/**
 * Reads the example app's SQLite file directly, read-only, so a test can check what was (not) stored without
 * going through the API under test. A fresh connection per call sees everything the app committed (WAL).
 */
export function readExampleDatabase<T>(databasePath: string, read: (db: { all: (sql: string, ...params: unknown[]) => Record<string, unknown>[] }) => T): T {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    return read({ all: (sql, ...params) => db.prepare(sql).all(...params) });
  } finally {
    db.close();
  }
}

/** Number of rows in a table of the example app's database. */
export function countRows(databasePath: string, table: 'webhook_subscription' | 'example_order' | 'webhook_attempt'): number {
  return readExampleDatabase(databasePath, (db) => Number(db.all(`SELECT COUNT(*) AS n FROM ${table}`)[0]!.n));
}

/** One row by id (all columns, as stored), or undefined. */
export function rowById(
  databasePath: string,
  table: 'webhook_subscription' | 'example_order' | 'webhook_attempt',
  id: string,
): Record<string, unknown> | undefined {
  return readExampleDatabase(databasePath, (db) => db.all(`SELECT * FROM ${table} WHERE id = ?`, id)[0]);
}

/** All rows of a table ordered by id (all columns, as stored). */
export function allRows(databasePath: string, table: 'webhook_subscription' | 'example_order' | 'webhook_attempt'): Record<string, unknown>[] {
  return readExampleDatabase(databasePath, (db) => db.all(`SELECT * FROM ${table} ORDER BY id`));
}
