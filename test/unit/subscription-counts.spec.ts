import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { MemoryWebhookStore } from '../../libs/webhooks/src/storage/memory/memory-webhook.store.js';
import { TypeOrmWebhookStore } from '../../libs/webhooks/src/storage/typeorm/typeorm-webhook.store.js';
import { WebhookStore } from '../../libs/webhooks/src/storage/webhook-store.js';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import type { WebhookSubscription } from '../../libs/webhooks/src/core/webhook-subscription.js';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';

const T0 = new Date('2026-12-01T00:00:00.000Z');

function subscription(id: string, active: boolean, failingSince: Date | null): WebhookSubscription {
  return {
    id,
    source: 'persistent',
    url: 'https://example.com/hook',
    events: ['**'],
    payloadType: null,
    scope: null,
    ownerId: 'alice',
    permission: null,
    dialect: null,
    active,
    statusMessage: active ? 'Active' : 'Deactivated',
    description: null,
    metadata: {},
    headerNames: [],
    retrySchedule: null,
    attemptLimit: null,
    preconditionFailureLimit: null,
    preconditionFailures: 0,
    failingSince,
    createdAt: T0,
    updatedAt: T0,
    revision: 0,
  };
}

/** Three active, two of them failing now, and two inactive (one deactivated while it was failing: inactive). */
const ROWS: Array<[id: string, active: boolean, failing: boolean]> = [
  ['a-1', true, false],
  ['a-2', true, true],
  ['a-3', true, true],
  ['a-4', true, false],
  ['a-5', true, false],
  ['i-1', false, false],
  ['i-2', false, true],
];
const EXPECTED = { active: 3, failing: 2, inactive: 2 };

describe.each(['memory', ...DATABASES] as const)('counting stored subscriptions by state (%s store)', (kind) => {
  let store: WebhookStore;
  let database: TestDatabase | undefined;
  let dataSource: DataSource | undefined;

  beforeAll(async () => {
    if (kind === 'memory') store = new MemoryWebhookStore();
    else {
      database = await createTestDatabase(kind);
      dataSource = await new DataSource({ ...database.connection, entities: WEBHOOK_ENTITIES, migrations: WEBHOOK_MIGRATIONS, migrationsRun: true }).initialize();
      store = new TypeOrmWebhookStore(() => dataSource!, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
      await store.initialize();
    }
  });

  afterAll(async () => {
    await store?.close();
    await dataSource?.destroy();
    await database?.drop();
  });

  it('answers zeros for an empty store, then active, failing (active with failingSince) and inactive', async () => {
    expect(await store.countSubscriptions()).toEqual({ active: 0, failing: 0, inactive: 0 });
    for (const [id, active, failing] of ROWS) {
      await store.insertSubscription(subscription(id, active, failing ? T0 : null), { secrets: [], headers: {} });
    }
    expect(await store.countSubscriptions()).toEqual(EXPECTED);
    // The contract's default (for stores with no grouped query) pages through the listing to the same answer.
    expect(await WebhookStore.prototype.countSubscriptions.call(store)).toEqual(EXPECTED);

    await store.updateSubscription('a-2', { failingSince: null });
    await store.updateSubscription('a-1', { active: false, statusMessage: 'Deactivated' });
    expect(await store.countSubscriptions()).toEqual({ active: 3, failing: 1, inactive: 3 });
  });
});
