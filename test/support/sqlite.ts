import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';

/** A real SQLite file in a fresh temporary directory, removed by `cleanup`. */
export function tempSqliteFile(name = 'webhooks.sqlite'): { path: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-'));
  return { path: join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** TypeORM options for that file, with the webhook tables created by the library's migrations. */
export function sqliteDataSourceOptions(path: string, entities: Function[] = []) {
  return {
    type: 'better-sqlite3' as const,
    database: path,
    enableWAL: true,
    entities: [...WEBHOOK_ENTITIES, ...entities],
    migrations: WEBHOOK_MIGRATIONS,
    migrationsRun: true,
    synchronize: false,
  };
}

export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');
