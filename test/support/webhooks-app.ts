import 'reflect-metadata';
import type { INestApplication, Provider, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { type WebhookAuthorizer, WebhooksModule, type WebhooksModuleOptions } from 'nest-webhooks';
import { createTestDatabase, type DatabaseKind, POSTGRES_URL, type TestDatabase, transactionalModules } from './databases.js';
import { TEST_SECRET_KEY } from './sqlite.js';
import { testTls } from './tls.js';

/** Where a suite keeps subscriptions and attempts: the memory store, or the TypeORM store on a database. */
export type StoreKind = 'memory' | DatabaseKind;

/** Every store a store-dependent suite runs on: memory, SQLite, and PostgreSQL when `.ci/run` provides a server. */
export const STORES: StoreKind[] = POSTGRES_URL ? ['memory', 'sqlite', 'postgres'] : ['memory', 'sqlite'];

/** The databases only (suites about durable storage). */
export const DATABASE_STORES: DatabaseKind[] = POSTGRES_URL ? ['sqlite', 'postgres'] : ['sqlite'];

/**
 * A fresh database for `kind` (none for `memory`): pass it as `database` to `createWebhooksApp`, and drop it after.
 */
export async function storeFor(kind: StoreKind): Promise<TestDatabase | undefined> {
  return kind === 'memory' ? undefined : createTestDatabase(kind);
}

/** Options that let deliveries reach the loopback test receivers (policy otherwise unchanged). */
export function loopbackDestinations(extra: WebhooksModuleOptions['destinations'] = {}): WebhooksModuleOptions['destinations'] {
  return { allowPrivateNetworks: ['127.0.0.1/32', '::1/128'], tls: { ca: testTls.ca }, ...extra };
}

export interface TestAppOptions {
  webhooks?: WebhooksModuleOptions;
  imports?: Array<Type<unknown> | ReturnType<typeof WebhooksModule.forRoot>>;
  providers?: Provider[];
  authorizer?: Type<WebhookAuthorizer>;
  /** Providers replacing the library's own (e.g. a clock). */
  overrides?: Provider[];
  /** Modules imported before WebhooksModule (e.g. TypeOrmModule). */
  before?: unknown[];
  /**
   * Keep subscriptions and attempts in this database: TypeORM (the webhook tables migrated, `entities` listed) and
   * `@nestjs-cls/transactional` are imported first, and the TypeORM store is configured with a test key.
   */
  database?: TestDatabase;
  /** Entities of the test's own, with `database`. */
  entities?: Function[];
  /** `false`: compile only; the test calls `app.init()` (to look before start-up work runs). @default true */
  init?: boolean;
}

/** Boots a real Nest application with EventEmitterModule and WebhooksModule (no HTTP listener). */
export async function createWebhooksApp(options: TestAppOptions = {}): Promise<INestApplication> {
  const database = options.database;
  const storage: WebhooksModuleOptions = database
    ? { storage: { type: 'typeorm' }, secrets: { encryptionKeys: [{ id: 'test', key: TEST_SECRET_KEY }] } }
    : {};
  @Module({
    imports: [
      EventEmitterModule.forRoot({ wildcard: true }),
      ...((database ? transactionalModules(database, options.entities) : []) as Type<unknown>[]),
      ...((options.before ?? []) as Type<unknown>[]),
      WebhooksModule.forRoot({
        ...storage,
        ...options.webhooks,
        destinations: { ...loopbackDestinations(), ...options.webhooks?.destinations },
        // WEBHOOKS_TEST_TRANSPORT=axios|undici|undici-thread runs the suite against one transport or the other.
        delivery: { ...(process.env.WEBHOOKS_TEST_TRANSPORT ? { transport: process.env.WEBHOOKS_TEST_TRANSPORT } : {}), ...options.webhooks?.delivery },
        authorizer: options.authorizer,
        providers: options.overrides ?? [],
      } as never),
      ...((options.imports ?? []) as Type<unknown>[]),
    ],
    providers: options.providers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  if (options.init !== false) await app.init();
  return app;
}
