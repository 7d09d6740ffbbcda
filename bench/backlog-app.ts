import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { join } from 'node:path';
import { WebhooksModule, type WebhooksModuleOptions } from 'nest-webhooks';
import { benchSqliteDatabase } from './sqlite-database.js';

/** A library app on an existing directory's SQLite file (the backlog bench restarts it on the same file). */
export async function startLibraryAt(dir: string, options: WebhooksModuleOptions) {
  class BacklogModule {}
  Module({
    imports: [
      EventEmitterModule.forRoot({ wildcard: true }),
      TypeOrmModule.forRoot(benchSqliteDatabase(join(dir, 'bench.sqlite'))),
      WebhooksModule.forRoot({
        ...options,
        storage: { type: 'typeorm' },
        secrets: { encryptionKeys: [{ id: 'bench', key: Buffer.alloc(32, 1).toString('base64') }] },
        destinations: { allowHttp: true, allowPrivateNetworks: ['127.0.0.1/32'] },
      }),
    ],
  })(BacklogModule);
  const app = await NestFactory.createApplicationContext(BacklogModule, { logger: ['error'] });
  await app.init();
  return { app, close: () => app.close() };
}
