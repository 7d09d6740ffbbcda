import { DataSource } from 'typeorm';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import type { WebhookSubscription } from '../../libs/webhooks/src/core/webhook-subscription.js';
import { MemoryWebhookStore } from '../../libs/webhooks/src/storage/memory/memory-webhook.store.js';
import { TypeOrmWebhookStore } from '../../libs/webhooks/src/storage/typeorm/typeorm-webhook.store.js';
import type { WebhookStore } from '../../libs/webhooks/src/storage/webhook-store.js';
import { createTestDatabase, DATABASES, type DatabaseKind } from './databases.js';
import { TEST_SECRET_KEY } from './sqlite.js';

/** Every store engine a contract test runs on: memory, SQLite, and PostgreSQL when `.ci/run` provides a server. */
export const STORE_ENGINES = ['memory', ...DATABASES] as const;

/** A store of its own for a contract test: in memory, or TypeORM on a fresh, migrated database; `close` drops it. */
export async function openStore(kind: 'memory' | DatabaseKind): Promise<{ store: WebhookStore; close(): Promise<void> }> {
  if (kind === 'memory') {
    const store = new MemoryWebhookStore();
    return { store, close: () => store.close() };
  }
  const database = await createTestDatabase(kind);
  const dataSource = await new DataSource({ ...database.connection, entities: WEBHOOK_ENTITIES, migrations: WEBHOOK_MIGRATIONS, migrationsRun: true }).initialize();
  const store = new TypeOrmWebhookStore(() => dataSource, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
  await store.initialize();
  return {
    store,
    async close() {
      await store.close();
      await dataSource.destroy();
      await database.drop();
    },
  };
}

/** A stored subscription record as the library writes one (active, persistent, no limits); override any field. */
export function subscriptionRecord(overrides: Partial<WebhookSubscription> & { id: string }): WebhookSubscription {
  const createdAt = overrides.createdAt ?? new Date('2026-01-01T00:00:00Z');
  return {
    source: 'persistent',
    url: 'https://example.com/hook',
    events: ['**'],
    payloadType: null,
    scope: null,
    ownerId: 'alice',
    permission: null,
    dialect: null,
    active: true,
    statusMessage: 'Active',
    description: null,
    metadata: {},
    headerNames: [],
    retrySchedule: null,
    attemptLimit: null,
    preconditionFailureLimit: null,
    preconditionFailures: 0,
    failingSince: null,
    createdAt,
    updatedAt: createdAt,
    revision: 0,
    ...overrides,
  };
}
