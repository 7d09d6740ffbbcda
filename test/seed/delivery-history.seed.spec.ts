import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebhookAttempt, type WebhookAttemptResolvedEvent, WebhookDeliveryManager, WebhookEvents, WebhookMessages, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { type ResolvedWebhooksOptions, WebhookClock, WEBHOOKS_OPTIONS } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { FakeResolver } from '../support/fake-resolver.js';
import { ok, TestReceiver } from '../support/receiver.js';
import {
  ContentContainer,
  CREATED_EVENTS,
  Folder,
  gate,
  hangUp,
  heldUntil,
  STATIC_SECRET,
  SwitchableDialect,
} from '../support/seed-a-fixtures.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * Seed §11 "Delivery history" (scenarios 13–22): what an attempt records, and the history limit with its
 * automatic deactivation. Every delivery goes over real HTTPS to a loopback receiver; only the clock and DNS
 * are test doubles. The seed tries each delivery once, so retries are off (`retrySchedule: []`). Every
 * scenario runs on each store: memory, and the TypeORM store on SQLite and PostgreSQL.
 */

const LIBRARY_VERSION = (JSON.parse(readFileSync(new URL('../../libs/webhooks/package.json', import.meta.url), 'utf8')) as { version: string }).version;
const START = Date.UTC(2026, 0, 1);
const NOTE = '/some/request/path';

describe.each(STORES)('seed scenarios 13–22: delivery history (%s store)', (store) => {
  let app: INestApplication | undefined;
  let database: TestDatabase | undefined;
  let receiver: TestReceiver | undefined;
  let clock: FakeClock;
  let resolver: FakeResolver;
  let dialect: SwitchableDialect;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
    app = undefined;
    receiver = undefined;
    database = undefined;
  });

  /**
   * One static subscription (seed: `for=IContentContainer, when=IObjectCreatedEvent`) to `/some/path` on a
   * real HTTPS receiver, reached through the name `receiver.test` that the fake resolver maps to loopback.
   */
  async function start(webhooks: Partial<WebhooksModuleOptions> = {}): Promise<void> {
    receiver = await TestReceiver.start();
    clock = new FakeClock(START);
    resolver = new FakeResolver().set('receiver.test', ['127.0.0.1']);
    dialect = new SwitchableDialect();
    database = await storeFor(store);
    app = await createWebhooksApp({
      database,
      webhooks: {
        subscriptions: [
          {
            url: `https://receiver.test:${receiver.port}/some/path`,
            payloadType: ContentContainer,
            events: CREATED_EVENTS,
            dialect: 'switchable',
            secret: STATIC_SECRET,
          },
        ],
        dialects: { switchable: dialect },
        destinations: { lookup: resolver.lookup },
        ...webhooks,
        delivery: { retrySchedule: [], ...webhooks.delivery },
      },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
  }

  const url = () => `https://receiver.test:${receiver!.port}/some/path`;
  const subscriptions = () => app!.get(WebhookSubscriptionManager);
  const delivery = () => app!.get(WebhookDeliveryManager);
  /** Attempts oldest first (seed iteration order); `listAttempts` is newest first. */
  const history = async (): Promise<WebhookAttempt[]> => (await delivery().listAttempts('Subscription')).reverse();

  /**
   * Seed `deliver_some(n, note)`: n created events on new folders, with a clock that moves forward each time.
   * `settleEach` waits for each delivery before the next, like committing one transaction after another.
   */
  async function deliverSome(n: number, { note = NOTE, settleEach = false } = {}): Promise<WebhookAttempt[]> {
    const created: WebhookAttempt[] = [];
    for (let i = 0; i < n; i++) {
      clock.advance(1);
      created.push(...(await app!.get(WebhookPublisher).publish('folder.created', new Folder(`f-${i}`, 'Reports'), { note })));
      if (settleEach) await delivery().waitForPendingDeliveries();
    }
    return created;
  }

  /** Seed scenario 20's outcome: exactly 50 failed attempts, suspended, and further events change nothing. */
  async function expectSuspendedAfterFailures(message: string): Promise<void> {
    const attempts = await history();
    expect(attempts).toHaveLength(50);
    expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(['failed']));
    expect(new Set(attempts.map((a) => a.message))).toEqual(new Set([message]));
    expect(await subscriptions().get('Subscription')).toMatchObject({
      active: false,
      statusMessage: WebhookMessages.subscription.TooManyDeliveryFailures,
    });

    const requestsBefore = receiver!.requests.length;
    expect(await deliverSome(100, { settleEach: true })).toEqual([]);
    expect((await history()).map((a) => a.id)).toEqual(attempts.map((a) => a.id));
    expect(receiver!.requests).toHaveLength(requestsBefore);
  }

  it('scenario 13: a successful delivery records 1 attempt, successful, "200 OK", with its origin (pid, hostname, time, note) and no exceptions', async () => {
    await start();
    await deliverSome(1);
    await delivery().waitForPendingDeliveries();

    const attempts = await history();
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', tries: 1 });
    expect(attempt!.internal.originated).toEqual({ pid: process.pid, hostname: hostname(), createdAt: new Date(START + 1), note: NOTE });
    expect(attempt!.internal.exceptionHistory).toEqual([]);
    expect(receiver!.requests).toHaveLength(1);
  });

  it('scenario 14: the request record has the URL, POST, the dialect headers (webhook-signature stored as [redacted]) and the JSON body actually sent', async () => {
    await start();
    await deliverSome(1);
    await delivery().waitForPendingDeliveries();

    const [attempt] = await history();
    const sent = receiver!.requests[0]!;
    const body = '{"type":"folder.created","timestamp":"2026-01-01T00:00:00.001Z","data":{"id":"f-0","title":"Reports"}}';
    expect(attempt!.request).toEqual({
      url: url(),
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': `nest-webhooks/${LIBRARY_VERSION}`,
        'webhook-id': attempt!.webhookId,
        'webhook-timestamp': String(Math.floor((START + 1) / 1000)),
        'webhook-signature': '[redacted]',
      },
      body,
      sentAt: new Date(START + 1),
    });
    // What went over the wire: the same request, with the real signature and the exact length.
    expect(sent).toMatchObject({ method: 'POST', path: '/some/path', body });
    expect(sent.headers).toMatchObject({
      'content-type': 'application/json',
      'content-length': '102',
      'user-agent': `nest-webhooks/${LIBRARY_VERSION}`,
      'webhook-id': attempt!.webhookId,
      'webhook-timestamp': '1767225600',
    });
    expect(sent.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
  });

  it('scenario 15: the response record has 200, reason OK, the text/plain headers, an empty body and an elapsed time (pending attempts have null request/response, as the seed\'s docs say)', async () => {
    await start();
    const held = gate();
    receiver!.respondWith(heldUntil(held));
    await deliverSome(1);
    await receiver!.waitForRequests(1);

    const [pending] = await history();
    expect(pending).toMatchObject({ status: 'pending', message: null, request: null, response: null, tries: 0 });

    held.open();
    await delivery().waitForPendingDeliveries();
    const [attempt] = await history();
    expect(attempt!.status).toBe('successful');
    const response = attempt!.response!;
    expect(response).toMatchObject({ statusCode: 200, reason: 'OK', body: '', truncated: false, receivedAt: new Date(START + 1) });
    expect(response.headers).toMatchObject({ 'content-type': 'text/plain' });
    expect(response.elapsedMs).toBeGreaterThanOrEqual(0);
    expect(Number.isFinite(response.elapsedMs)).toBe(true);
  });

  it("scenario 16: a transport failure (connection dropped) → failed with the seed's remote-error message, note kept, 1 exception entry naming the error, no response", async () => {
    await start();
    receiver!.respondWith(hangUp);
    await deliverSome(1);
    await delivery().waitForPendingDeliveries();

    const attempts = await history();
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, response: null });
    expect(attempt!.internal.originated.note).toBe(NOTE);
    expect(attempt!.internal.exceptionHistory).toHaveLength(1);
    expect(attempt!.internal.exceptionHistory[0]).toMatch(/^WebhookTransportError \[connection-reset\]: /);
    expect(receiver!.requests).toHaveLength(1);
  });

  it("scenario 17: a local processing failure (the dialect's prepareRequest throws; the seed failed while recording the response) → failed with the seed's local-error message and 1 exception entry ending in the error", async () => {
    await start();
    dialect.failing = true;
    await deliverSome(1);
    await delivery().waitForPendingDeliveries();

    const attempts = await history();
    expect(attempts).toHaveLength(1);
    const [attempt] = attempts;
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.LocalError, response: null });
    expect(attempt!.internal.exceptionHistory).toHaveLength(1);
    expect(attempt!.internal.exceptionHistory[0]).toMatch(/TypeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte$/);
    expect(receiver!.requests).toHaveLength(0);
  });

  /** Seed "deferred delivery": one request at a time, the first one held until the test releases it. */
  async function hundredDeferredDeliveries(): Promise<{ created: WebhookAttempt[]; release: () => void }> {
    await start({ delivery: { concurrency: 1 } });
    const held = gate();
    receiver!.respondWith(heldUntil(held));
    const created = await deliverSome(100);
    return { created, release: held.open };
  }

  it('scenario 18: the attempt limit is 50, but 100 deferred deliveries give 100 attempts, all pending, kept in creation order', async () => {
    const { created, release } = await hundredDeferredDeliveries();
    try {
      expect(app!.get<ResolvedWebhooksOptions>(WEBHOOKS_OPTIONS).limits.attemptLimit).toBe(50);
      const attempts = await history();
      expect(attempts).toHaveLength(100);
      expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(['pending']));
      expect(attempts.map((a) => a.id)).toEqual(created.map((a) => a.id));
      expect(attempts.map((a) => a.createdAt.getTime())).toEqual(created.map((_, i) => START + i + 1));
      expect([...attempts.map((a) => a.id)].sort()).toEqual(attempts.map((a) => a.id));
    } finally {
      release();
    }
  });

  it('scenario 19: once the deferred deliveries complete, 50 attempts remain, all successful: the 50 oldest were pruned and the one at index 50 is kept', async () => {
    const { created, release } = await hundredDeferredDeliveries();
    const succeeded: string[] = [];
    app!.get(EventEmitter2).on(WebhookEvents.AttemptSucceeded, (event: WebhookAttemptResolvedEvent) => succeeded.push(event.attempt.id));
    release();
    await delivery().waitForPendingDeliveries();

    // Pruning never removed a pending attempt: every one of the 100 was sent (one at a time, in creation order)
    // and recorded as successful. The next request starts while the previous outcome is being written, so on a
    // database the success events may come in a slightly different order: which ones matters, not their order.
    expect(receiver!.requests.map((r) => r.headers['webhook-id'])).toEqual(created.map((a) => a.webhookId));
    expect([...succeeded].sort()).toEqual(created.map((a) => a.id).sort());
    const attempts = await history();
    expect(attempts).toHaveLength(50);
    expect(new Set(attempts.map((a) => a.status))).toEqual(new Set(['successful']));
    expect(attempts.map((a) => a.id)).toEqual(created.slice(50).map((a) => a.id));
    expect(attempts[0]!.id).toBe(created[50]!.id);
    expect(await delivery().getAttempt(created[0]!.id)).toBeNull();
    expect(await subscriptions().get('Subscription')).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });
  });

  it('scenario 20: 100 deliveries with transport failures (one try each, retries off as in the seed) leave 50 failed attempts and suspend the subscription; 100 more change nothing', async () => {
    await start();
    receiver!.respondWith(hangUp);
    await deliverSome(100, { settleEach: true });
    expect(receiver!.requests).toHaveLength(50);
    await expectSuspendedAfterFailures(WebhookMessages.attempt.RemoteError);
  });

  it('scenario 21: re-activated (status Active) and cleared, 100 processing failures give the same result as 20', async () => {
    await start();
    receiver!.respondWith(hangUp);
    await deliverSome(100, { settleEach: true });
    expect(await subscriptions().get('Subscription')).toMatchObject({ active: false });

    expect(await subscriptions().activate('Subscription')).toBe(true);
    expect(await subscriptions().get('Subscription')).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });
    expect(await delivery().clearAttempts('Subscription')).toBe(50);
    expect(await history()).toEqual([]);

    receiver!.respondWith(ok(200));
    dialect.failing = true;
    await deliverSome(100, { settleEach: true });
    expect(receiver!.requests).toHaveLength(50);
    await expectSuspendedAfterFailures(WebhookMessages.attempt.LocalError);
  });

  it('scenario 22: re-activated and cleared, 100 validation failures (the name now resolves to a blocked private address) give the same result as 20', async () => {
    await start();
    dialect.failing = true;
    await deliverSome(100, { settleEach: true });
    expect(await subscriptions().get('Subscription')).toMatchObject({ active: false });

    expect(await subscriptions().activate('Subscription')).toBe(true);
    expect(await subscriptions().get('Subscription')).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });
    expect(await delivery().clearAttempts('Subscription')).toBe(50);

    dialect.failing = false;
    resolver.set('receiver.test', ['10.0.0.1']);
    await deliverSome(100, { settleEach: true });
    expect(receiver!.requests).toHaveLength(0);
    await expectSuspendedAfterFailures(WebhookMessages.attempt.DestinationVerificationFailed);
  });
});
