import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/** An upgrade where a process of the earlier version still writes attempts after the migration ran. */
describe.each(DATABASES)('rolling upgrade (%s)', (kind) => {
  let database: TestDatabase;
  let receiver: TestReceiver;
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
  });

  it('an attempt written by the earlier version (without claimable_at) is still claimed and delivered', async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ database, webhooks: { delivery: { pollIntervalMs: 100 } } });
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] });
    const now = Date.now() - 1000;
    // The earlier version's INSERT: it does not know claimable_at.
    await database.query(
      `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, message, payload, dialect, request, response, tries, history,
         next_attempt_at, lease_owner, lease_expires_at, idempotency_key, internal, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', NULL, ?, 'standard', NULL, NULL, 0, '[]', ?, NULL, NULL, NULL, ?, ?, ?)`,
      ['01a24000-0000-7000-8000-000000000001', 'old-1', subscription.id, 'order.created', '{"type":"order.created","data":{}}', now, '{"originated":null,"exceptionHistory":[]}', now, now],
    );
    await app.get(WebhookDeliveryManager).processDueAttempts();
    await receiver.waitForRequests(1);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests[0]!.headers['webhook-id']).toBe('old-1');
  });
});
