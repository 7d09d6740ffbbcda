import type { INestApplication } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidWebhookSubscriptionError, type StaticWebhookSubscription, type WebhookAttempt, WebhookDeliveryManager, WebhookMessages, WebhookPublisher, type WebhookSubscription, WebhookSubscriptionManager } from 'nest-webhooks';
import { type ResolvedWebhooksOptions, WebhookClock, WEBHOOKS_OPTIONS } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { sequence, TestReceiver } from '../support/receiver.js';
import { STATIC_SECRET } from '../support/seed-a-fixtures.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES, storeFor } from '../support/webhooks-app.js';

/**
 * Seed §11 "Externalization" and the unit tests on principal ids and timestamps (scenarios 69–72).
 *
 * The seed externalizes subscriptions and attempts to read-only JSON. Here the read model is what the managers
 * return, and its JSON form is `JSON.stringify` of it (dates become ISO-8601 strings). Subscriptions and
 * attempts live in a real database (TypeORM store on SQLite and on PostgreSQL) and are read back through a
 * restarted app, so what is checked is what persisted. Seed → here: `Class` → `source`, `to` → `url`, `when` → `events`, `for_` →
 * `payloadType`, `owner_id` → `ownerId`, `permission_id` → `permission`, `dialect_id` → `dialect`,
 * `status_message` → `statusMessage`, `CreatedTime`/`Last Modified` → `createdAt`/`updatedAt`; the attempt
 * limit is a module option (`limits.attemptLimit`), not a per-subscription field.
 */

const DESTINATION = 'https://127.0.0.1:8443/hooks';

type Json = Record<string, unknown>;
const asJson = (value: unknown): Json => JSON.parse(JSON.stringify(value)) as Json;

describe.each(DATABASE_STORES)('seed scenarios 69–72: externalization, principal ids, timestamps (%s store)', (store) => {
  let database: TestDatabase | undefined;
  let clock: FakeClock;
  const apps: INestApplication[] = [];
  let receiver: TestReceiver | undefined;

  beforeEach(async () => {
    database = await storeFor(store);
    clock = new FakeClock(Date.UTC(2026, 0, 1));
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await receiver?.close();
    receiver = undefined;
    await database?.drop();
    database = undefined;
  });

  /** An app on the database; call again (after `stop`) to read what the previous one persisted. */
  async function start(options: { subscriptions?: StaticWebhookSubscription[] } = {}): Promise<INestApplication> {
    const app = await createWebhooksApp({
      // The TypeORM store on the database, with the test encryption key.
      database,
      webhooks: {
        delivery: { retrySchedule: [] },
        subscriptions: options.subscriptions,
      },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
    apps.push(app);
    return app;
  }

  async function stop(app: INestApplication): Promise<void> {
    apps.splice(apps.indexOf(app), 1);
    await app.close();
  }

  it('scenario 69: a subscription externalizes to exactly the read-model keys (dialect/owner/permission null, status Active, never the secret); the attempt limit is 50', async () => {
    const first = await start({ subscriptions: [{ url: DESTINATION, secret: STATIC_SECRET }] });
    const { subscription: created, secret } = await first.get(WebhookSubscriptionManager).create({ url: DESTINATION });
    await stop(first);

    const app = await start({ subscriptions: [{ url: DESTINATION, secret: STATIC_SECRET }] });
    expect(app.get<ResolvedWebhooksOptions>(WEBHOOKS_OPTIONS).limits.attemptLimit).toBe(50);
    const [statik, persistent] = await app.get(WebhookSubscriptionManager).list();
    const common = {
      url: DESTINATION,
      events: ['**'],
      payloadType: null,
      // Where it lives: global (`nti.webhooks` kept this in which site manager held it, not in the subscription).
      scope: null,
      ownerId: null,
      permission: null,
      dialect: null,
      active: true,
      statusMessage: WebhookMessages.subscription.Active,
      description: null,
      metadata: {},
      headerNames: [],
      retrySchedule: null,
      // The module's limits apply (`attemptLimit` 50), unless a subscription sets its own.
      attemptLimit: null,
      preconditionFailureLimit: null,
      preconditionFailures: 0,
      failingSince: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    };
    // `revision`: the registry version of its last change (the first stored change is 1; static ones have none).
    expect(asJson(persistent)).toEqual({ id: created.id, source: 'persistent', ...common, revision: 1 });
    expect(asJson(statik)).toEqual({ id: 'Subscription', source: 'static', ...common, revision: 0 });
    expect(JSON.stringify(persistent)).not.toContain(secret.slice('whsec_'.length));
    expect(JSON.stringify(statik)).not.toContain(STATIC_SECRET.slice('whsec_'.length));
  });

  it('scenario 70: with answers 200 then 404 and the payload "PAYLOAD", the first attempt is successful "200 OK" with a full request and response, the second failed "404 Not Found"', async () => {
    receiver = await TestReceiver.start({ responder: sequence(200, 404) });
    const first = await start();
    const { subscription } = await first.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/some/path`, events: ['thing.created'] });
    for (let i = 0; i < 2; i++) {
      clock.advance(1000);
      await first.get(WebhookPublisher).publish('thing.created', 'PAYLOAD');
      await first.get(WebhookDeliveryManager).waitForPendingDeliveries();
    }
    await stop(first);

    const app = await start();
    const [ok, notFound] = (await app.get(WebhookDeliveryManager).listAttempts(subscription.id)).reverse() as [WebhookAttempt, WebhookAttempt];
    const body = (second: number) => `{"type":"thing.created","timestamp":"2026-01-01T00:00:0${second}.000Z","data":"PAYLOAD"}`;
    expect(receiver.requests.map((r) => [r.body, r.headers['content-length']])).toEqual([
      [body(1), String(Buffer.byteLength(body(1)))],
      [body(2), String(Buffer.byteLength(body(2)))],
    ]);

    const okJson = asJson(ok);
    expect(Object.keys(okJson).sort()).toEqual(
      [
        'id', 'webhookId', 'subscriptionId', 'eventName', 'status', 'message', 'payload', 'dialect', 'request', 'response',
        'tries', 'history', 'nextAttemptAt', 'idempotencyKey', 'internal', 'createdAt', 'updatedAt',
      ].sort(),
    );
    expect(okJson).toMatchObject({
      subscriptionId: subscription.id,
      eventName: 'thing.created',
      status: 'successful',
      message: '200 OK',
      tries: 1,
      nextAttemptAt: null,
      createdAt: '2026-01-01T00:00:01.000Z',
      request: {
        url: `${receiver.url}/some/path`,
        method: 'POST',
        body: body(1),
        sentAt: '2026-01-01T00:00:01.000Z',
        headers: { 'content-type': 'application/json', 'webhook-id': ok.webhookId, 'webhook-signature': '[redacted]' },
      },
      response: { statusCode: 200, reason: 'OK', body: '', truncated: false, receivedAt: '2026-01-01T00:00:01.000Z' },
    });
    expect(Object.keys(okJson.request as Json).sort()).toEqual(['body', 'headers', 'method', 'sentAt', 'url']);
    expect(Object.keys(okJson.response as Json).sort()).toEqual(['body', 'elapsedMs', 'headers', 'reason', 'receivedAt', 'statusCode', 'truncated']);
    expect((okJson.response as Json).headers).toMatchObject({ 'content-type': 'text/plain' });
    expect(typeof (okJson.response as Json).elapsedMs).toBe('number');

    expect(asJson(notFound)).toMatchObject({
      status: 'failed',
      message: '404 Not Found',
      request: { body: body(2), method: 'POST' },
      response: { statusCode: 404, reason: 'Not Found' },
    });
    expect(notFound.internal.exceptionHistory).toEqual([]);
  });

  it('scenario 71: owner (principal) ids must be text without whitespace: non-strings, a space or a tab are rejected; an email and a plain name are accepted', async () => {
    const app = await start();
    const subscriptions = app.get(WebhookSubscriptionManager);
    const rejection = (ownerId: unknown) =>
      subscriptions.create({ url: DESTINATION, ownerId: ownerId as string }).then(
        () => null,
        (error: unknown) => error,
      );

    const bytes = await rejection(Buffer.from('sjohnson'));
    expect(bytes).toBeInstanceOf(InvalidWebhookSubscriptionError);
    expect(bytes).toMatchObject({ field: 'ownerId', reason: 'must be a string' });
    for (const id of ['s johnson', 's\tjohnson']) {
      expect(await rejection(id)).toMatchObject({ name: 'InvalidWebhookSubscriptionError', field: 'ownerId', reason: 'Whitespace is not allowed in an ID' });
    }

    for (const id of ['sjohnson@riskmetrics.com', 'sjohnson']) {
      const { subscription } = await subscriptions.create({ url: DESTINATION, ownerId: id });
      expect(subscription.ownerId).toBe(id);
    }
    await stop(app);
    const owners = (await (await start()).get(WebhookSubscriptionManager).list()).map((s: WebhookSubscription) => s.ownerId);
    expect(owners).toEqual(['sjohnson@riskmetrics.com', 'sjohnson']);
  });

  it('scenario 72: a subscription created at 123456789 s has createdAt 1973-11-29T21:33:09 UTC (ISO with milliseconds here), kept exactly by the database; a change moves only updatedAt', async () => {
    clock.set(123_456_789_000);
    const first = await start();
    const { subscription } = await first.get(WebhookSubscriptionManager).create({ url: DESTINATION });
    expect(subscription.createdAt.getTime() / 1000).toBe(123_456_789);
    expect(subscription.createdAt.toISOString()).toBe('1973-11-29T21:33:09.000Z');
    expect(subscription.updatedAt).toEqual(subscription.createdAt);

    clock.set(123_456_790_500);
    await first.get(WebhookSubscriptionManager).update(subscription.id, { description: 'changed' });
    await stop(first);

    const stored = (await (await start()).get(WebhookSubscriptionManager).get(subscription.id))!;
    expect(stored.createdAt).toEqual(new Date('1973-11-29T21:33:09Z'));
    expect(stored.updatedAt.getTime()).toBe(123_456_790_500);
    expect(asJson(stored)).toMatchObject({ createdAt: '1973-11-29T21:33:09.000Z', updatedAt: '1973-11-29T21:33:10.500Z' });
  });
});
