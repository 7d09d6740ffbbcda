import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from '@app/webhooks';

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

/**
 * The modules an app needs for transaction-bound publishing on that file: TypeORM (webhook tables migrated)
 * and `@nestjs-cls/transactional` with the TypeORM adapter.
 */
export function sqliteTransactionalModules(path: string, entities: Function[] = []): unknown[] {
  return [
    TypeOrmModule.forRoot(sqliteDataSourceOptions(path, entities)),
    ClsModule.forRoot({
      global: true,
      plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }) })],
    }),
  ];
}
