import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { tempSqliteFile } from './sqlite.js';

/** The databases the store-dependent suites run on. */
export type DatabaseKind = 'sqlite' | 'postgres';

/**
 * A PostgreSQL server the tests may create databases on (`.ci/run` starts one and sets this); without it the
 * PostgreSQL variants of the suites are skipped.
 */
export const POSTGRES_URL = process.env.WEBHOOKS_TEST_POSTGRES_URL;

/** SQLite always; PostgreSQL when a server is given. Use with `describe.each(DATABASES)`. */
export const DATABASES: DatabaseKind[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/** A fresh, empty database: a SQLite file in a temp dir, or a PostgreSQL database of its own. */
export interface TestDatabase {
  kind: DatabaseKind;
  /** `DATABASE_URL` of the example app: `sqlite:<path>` or `postgres://…`. */
  url: string;
  /** TypeORM options for it (no entities or migrations). */
  connection: { type: 'better-sqlite3'; database: string; enableWAL: true } | { type: 'postgres'; url: string };
  /** The SQLite file, for tests that read it directly. */
  path?: string;
  /**
   * Runs SQL on a connection of the test's own (not the app's), with `?` placeholders on both databases. Rows are
   * as the driver returns them (PostgreSQL gives bigint columns as strings).
   */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  drop(): Promise<void>;
}

async function adminQuery(sql: string): Promise<void> {
  const admin = new DataSource({ type: 'postgres', url: POSTGRES_URL });
  await admin.initialize();
  try {
    await admin.query(sql);
  } finally {
    await admin.destroy();
  }
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === 'sqlite') {
    const file = tempSqliteFile();
    return {
      kind,
      url: `sqlite:${file.path}`,
      connection: { type: 'better-sqlite3', database: file.path, enableWAL: true },
      path: file.path,
      async query(sql, params = []) {
        // A fresh read-only connection per call sees everything committed (WAL).
        const db = new Database(file.path, { fileMustExist: true });
        try {
          const statement = db.prepare(sql);
          return statement.reader ? (statement.all(...params) as Record<string, unknown>[]) : (statement.run(...params), []);
        } finally {
          db.close();
        }
      },
      drop: async () => file.cleanup(),
    };
  }
  if (!POSTGRES_URL) throw new Error('WEBHOOKS_TEST_POSTGRES_URL is not set');
  const name = `wh_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  let reader: Promise<DataSource> | undefined;
  return {
    kind,
    url: url.toString(),
    connection: { type: 'postgres', url: url.toString() },
    async query(sql, params = []) {
      reader ??= new DataSource({ type: 'postgres', url: url.toString(), extra: { max: 2 } }).initialize();
      let n = 0;
      const rows = (await (await reader).query(
        sql.replace(/\?/g, () => `$${++n}`),
        params,
      )) as unknown;
      // TypeORM returns [rows, count] for UPDATE and DELETE.
      return Array.isArray(rows) && !Array.isArray(rows[0]) ? (rows as Record<string, unknown>[]) : [];
    },
    async drop() {
      if (reader) await (await reader).destroy();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** TypeORM options with the webhook tables (created by the library's migrations) and `entities`. */
export function dataSourceOptions(database: TestDatabase, entities: Function[] = []): TypeOrmModuleOptions {
  return {
    ...database.connection,
    entities: [...WEBHOOK_ENTITIES, ...entities],
    migrations: WEBHOOK_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
    // Several test apps share one PostgreSQL server: keep each one's pool small.
    ...(database.kind === 'postgres' ? { extra: { max: 5 } } : {}),
  } as TypeOrmModuleOptions;
}

/** TypeORM on the database plus `@nestjs-cls/transactional`, for transaction-bound publishing. */
export function transactionalModules(database: TestDatabase, entities: Function[] = []): unknown[] {
  return [
    TypeOrmModule.forRoot(dataSourceOptions(database, entities)),
    ClsModule.forRoot({
      global: true,
      plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }) })],
    }),
  ];
}
