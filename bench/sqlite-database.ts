import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';

/**
 * The SQLite database of the library contestants, set up as docs/configuration.md recommends: WAL, and 8 KiB
 * pages (set before anything is written; the attempt rows are 1–3 KB, and 4 KiB pages hold one or two of them).
 */
export function benchSqliteDatabase(database: string): TypeOrmModuleOptions {
  return {
    type: 'better-sqlite3',
    database,
    prepareDatabase: (db: Database) => {
      db.pragma('page_size = 8192');
    },
    enableWAL: true,
    entities: WEBHOOK_ENTITIES,
    migrations: WEBHOOK_MIGRATIONS,
    migrationsRun: true,
  };
}
