import type { TestDatabase } from './databases.js';

/**
 * Reads the example app's database on a connection of the test's own, so a test can check what was (not) stored
 * without going through the API under test. The same SQL on SQLite and PostgreSQL.
 */
type Table = 'webhook_subscription' | 'example_order' | 'webhook_attempt';

/** Number of rows in a table of the example app's database. */
export async function countRows(database: TestDatabase, table: Table): Promise<number> {
  return Number((await database.query(`SELECT COUNT(*) AS n FROM ${table}`))[0]!.n);
}

/** One row by id (all columns, as stored), or undefined. */
export async function rowById(database: TestDatabase, table: Table, id: string): Promise<Record<string, unknown> | undefined> {
  return (await database.query(`SELECT * FROM ${table} WHERE id = ?`, [id]))[0];
}

/** All rows of a table ordered by id (all columns, as stored). */
export async function allRows(database: TestDatabase, table: Table): Promise<Record<string, unknown>[]> {
  return database.query(`SELECT * FROM ${table} ORDER BY id`);
}
