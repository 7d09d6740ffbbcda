import type { INestApplication } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { ok, type Responder, TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES } from '../support/webhooks-app.js';

/**
 * Graceful shutdown with the TypeORM store on a real database (SQLite file, PostgreSQL): on `app.close()` the app stops claiming, lets
 * in-flight requests finish for up to `delivery.shutdownTimeoutMs`, aborts what is still running after that,
 * and releases the claims of every attempt it did not finish, so the next process delivers them at once.
 *
 * Leases are 10 minutes long here: an attempt whose claim was not released could not be taken over within
 * the test, so "delivered by the next start" proves the release (no waiting for lease expiry).
 */

const LEASE_MS = 10 * 60_000;

interface AttemptRow {
  id: string;
  webhook_id: string;
  status: string;
  tries: number;
  lease_owner: string | null;
  /** A bigint: a string on PostgreSQL. */
  lease_expires_at: number | string | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DATABASE_STORES)('graceful shutdown (TypeORM store, %s)', (kind) => {
  let database: TestDatabase;
  let receiver: TestReceiver;
  let responder: Responder;
  const apps: INestApplication[] = [];

  beforeEach(async () => {
    database = await createTestDatabase(kind);
    responder = ok();
    receiver = await TestReceiver.start({ responder: (request, res, req) => responder(request, res, req) });
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close().catch(() => undefined);
    await receiver.close();
    await database.drop();
  });

  async function startApp(delivery: WebhooksModuleOptions['delivery']): Promise<INestApplication> {
    const app = await createWebhooksApp({
      database,
      webhooks: {
        delivery: { retrySchedule: [], leaseMs: LEASE_MS, ...delivery },
      },
    });
    apps.push(app);
    return app;
  }

  async function close(app: INestApplication): Promise<number> {
    const started = performance.now();
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    return performance.now() - started;
  }

  /** The attempt rows as another process sees them, read on a connection of the test's own. */
  async function attemptRows(): Promise<AttemptRow[]> {
    return (await database.query('SELECT id, webhook_id, status, tries, lease_owner, lease_expires_at FROM webhook_attempt ORDER BY id')) as unknown as AttemptRow[];
  }

  it('finishes in-flight requests (recorded successful), claims nothing new, releases the rest; the next start delivers them at once', async () => {
    const SLOTS = 4;
    const EVENTS = 20;
    // Every answer takes ~300 ms, so the first SLOTS requests are still in flight when close() starts.
    responder = (request, res, req) => void setTimeout(() => ok()(request, res, req), 300);
    const first = await startApp({ concurrency: SLOTS, perEndpointConcurrency: SLOTS, shutdownTimeoutMs: 5000, timeoutMs: 10_000 });
    await first.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/drain`, events: ['job.*'] });
    for (let i = 0; i < EVENTS; i++) await first.get(WebhookPublisher).publish('job.done', { i });
    await receiver.waitForRequests(SLOTS);
    expect(first.get(WebhookDeliveryManager).stats).toMatchObject({ active: SLOTS, queued: EVENTS - SLOTS });

    const inFlight = receiver.requests.map((r) => r.headers['webhook-id']);
    const closeMs = await close(first);
    await sleep(100);
    expect(receiver.requests).toHaveLength(SLOTS); // nothing new was started during or after shutdown

    const rows = await attemptRows();
    expect(rows).toHaveLength(EVENTS);
    const done = rows.filter((r) => r.status === 'successful');
    expect(done.map((r) => r.webhook_id).sort()).toEqual([...inFlight].sort());
    for (const row of done) expect(row).toMatchObject({ tries: 1, lease_owner: null });
    const pending = rows.filter((r) => r.status === 'pending');
    expect(pending).toHaveLength(EVENTS - SLOTS);
    for (const row of pending) expect(row).toMatchObject({ tries: 0, lease_owner: null, lease_expires_at: null });
    console.info(`shutdown (${kind}): close() took ${closeMs.toFixed(0)} ms with ${SLOTS} requests of ~300 ms in flight; ${pending.length} attempts released`);

    // A second process on the same database takes the released attempts over without waiting for any lease.
    responder = ok();
    const second = await startApp({ concurrency: SLOTS, perEndpointConcurrency: SLOTS });
    await second.get(WebhookDeliveryManager).processDueAttempts();
    await receiver.waitForRequests(EVENTS, 10_000);
    await second.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const resent = receiver.requests.slice(SLOTS).map((r) => r.headers['webhook-id']);
    expect(resent.sort()).toEqual(pending.map((r) => r.webhook_id).sort());
    expect((await attemptRows()).every((r) => r.status === 'successful' && r.tries === 1)).toBe(true);
  });

  it('a receiver that never answers: close() aborts the request after shutdownTimeoutMs, the attempt stays pending and unleased, and the next start delivers it', async () => {
    const SHUTDOWN_MS = 300;
    let abortedBySender = false;
    responder = (_request, res) => {
      res.on('close', () => (abortedBySender = true));
    };
    // The request's own deadline (60 s) is beyond this test's timeout: only the shutdown bound can end it.
    const first = await startApp({ shutdownTimeoutMs: SHUTDOWN_MS, timeoutMs: 60_000 });
    const { subscription } = await first.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hang`, events: ['job.*'] });
    const [attempt] = await first.get(WebhookPublisher).publish('job.done', { i: 1 });
    await receiver.waitForRequests(1);

    const closeMs = await close(first);
    console.info(`shutdown (${kind}): close() took ${closeMs.toFixed(0)} ms with shutdownTimeoutMs ${SHUTDOWN_MS} and a request that never ends`);
    // The sender gave up the connection (the receiver sees it close a moment later, on its side of the socket).
    for (let i = 0; i < 100 && !abortedBySender; i++) await sleep(20);
    expect(abortedBySender).toBe(true);

    const [row] = await attemptRows();
    expect(row).toMatchObject({ id: attempt!.id, status: 'pending', tries: 0 });
    expect(row!.lease_owner).toBeNull();
    expect(row!.lease_expires_at).toBeNull();

    responder = ok();
    const second = await startApp({});
    await second.get(WebhookDeliveryManager).processDueAttempts();
    await receiver.waitForRequests(2, 10_000);
    await second.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([attempt!.webhookId, attempt!.webhookId]);
    expect(await second.get(WebhookDeliveryManager).getAttempt(attempt!.id)).toMatchObject({ status: 'successful', tries: 1, subscriptionId: subscription.id });
  });
});
