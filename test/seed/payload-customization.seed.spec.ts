import { readFileSync } from 'node:fs';
import { Injectable, type INestApplication, type Provider } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { StandardWebhookDialect, type StaticWebhookSubscription, WebhookDeliveryManager, type WebhookDialect, WebhookDialectProvider, type WebhookPayloadSerializer, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookDialectRegistry, type WebhookPayloadSource, type WebhookSerializationContext } from 'nest-webhooks/extensions';
import { type ReceivedRequest, TestReceiver } from '../support/receiver.js';
import {
  Contractor,
  Employee,
  ExternalizableEmployee,
  externalizeEmployee,
} from '../support/seed-b-payloads.js';
import { seedSecret } from '../support/seed-b-security.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

const LIBRARY_VERSION = (JSON.parse(readFileSync(new URL('../../libs/webhooks/package.json', import.meta.url), 'utf8')) as { version: string }).version;
/** Seed: `LastModified = 123456789.0`. */
const LAST_MODIFIED = new Date(123456789 * 1000);

/** Seed: an employee whose `IWebhookPayload` is itself (here: it serializes itself). */
class SelfPayloadEmployee extends Employee implements WebhookPayloadSource {
  readonly contexts: WebhookSerializationContext[] = [];

  toWebhookPayload(context: WebhookSerializationContext): unknown {
    this.contexts.push(context);
    return { Class: 'SelfPayloadEmployee', Name: this.name };
  }
}

/** A payload that declines to serialize itself (returns undefined): the next candidate decides (seed: adapters returning None are skipped). */
class DecliningEmployee extends Employee implements WebhookPayloadSource {
  toWebhookPayload(): unknown {
    return undefined;
  }
}

/**
 * Seed §11 scenarios 37–47 (payload customization, §1.7, and dialects, §6). The seed's adapters map to
 * `WebhookPayloadSerializer`s (see `libs/webhooks/src/payloads/webhook-payload.serializers.ts`):
 * named multi-adapter → dialect + event serializer; unnamed multi-adapter → event serializer; `IWebhookPayload`
 * → the payload's `toWebhookPayload()`; named single adapter → dialect-specific type serializer (the seed's
 * name `webhook-delivery` is the default dialect's externalizer, so "named" ≈ "for the `standard` dialect");
 * unnamed single adapter → type serializer. The standard dialect wraps what is chosen in
 * `{"type", "timestamp", "data"}`, so the seed's body is compared with `data`.
 */
describe.each(STORES)('seed: payload customization (scenarios 37–47) (%s store)', (store) => {
  const STATIC_ID = 'Subscription';

  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
    app = undefined;
    receiver = undefined;
    database = undefined;
  });

  interface BootOptions {
    serializers?: WebhookPayloadSerializer[];
    dialects?: Record<string, WebhookDialect>;
    providers?: Provider[];
    /** Extra fields of the static subscription (seed: `staticSubscription for=employees.Employee`). */
    subscription?: Partial<StaticWebhookSubscription>;
    extraSubscriptions?: (url: string) => StaticWebhookSubscription[];
  }

  async function boot(options: BootOptions = {}) {
    receiver = await TestReceiver.start();
    const secret = seedSecret();
    database = await storeFor(store);
    app = await createWebhooksApp({
      database,
      providers: options.providers,
      webhooks: {
        serializers: options.serializers,
        dialects: options.dialects,
        subscriptions: [
          { url: `${receiver.url}/some/path`, events: ['employee.*'], payloadType: Employee, secret, ...options.subscription },
          ...(options.extraSubscriptions?.(receiver.url) ?? []),
        ],
      },
    });
    return { app, receiver, secret, delivery: app.get(WebhookDeliveryManager), subscriptions: app.get(WebhookSubscriptionManager) };
  }

  /** Emits one event and waits until it is delivered; returns the requests it caused. */
  async function send(eventName: string, payload: unknown): Promise<ReceivedRequest[]> {
    const before = receiver!.requests.length;
    app!.get(EventEmitter2).emit(eventName, payload);
    await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
    return receiver!.requests.slice(before);
  }

  /** The one request an event caused, with the seed's body (the envelope's `data`). */
  async function sendOne(eventName: string, payload: unknown): Promise<{ request: ReceivedRequest; data: unknown }> {
    const requests = await send(eventName, payload);
    expect(requests).toHaveLength(1);
    const envelope = JSON.parse(requests[0]!.body) as { type: string; timestamp: string; data: unknown };
    expect(envelope.type).toBe(eventName);
    return { request: requests[0]!, data: envelope.data };
  }

  const dataOf = async (eventName: string, payload: unknown) => (await sendOne(eventName, payload)).data;

  function expectContentLengthOf(request: ReceivedRequest): void {
    expect(request.headers['content-length']).toBe(String(Buffer.byteLength(request.body, 'utf8')));
  }

  const typeSerializer: WebhookPayloadSerializer<Employee> = { type: Employee, serialize: (e) => e.name };
  const namedTypeSerializer: WebhookPayloadSerializer<Employee> = { type: Employee, dialect: 'standard', serialize: () => 'An Employee' };
  const eventSerializer: WebhookPayloadSerializer<Employee> = { type: Employee, event: 'employee.created', serialize: () => 'employee-and-event' };
  const namedEventSerializer: WebhookPayloadSerializer<Employee> = {
    type: Employee,
    event: 'employee.created',
    dialect: 'standard',
    // Declines for Susan, to show that declining passes the decision on.
    serialize: (e) => (e.name === 'Susan' ? undefined : 'named-employee-and-event'),
  };

  it('scenario 37: a static subscription for the Employee class gets the employee itself as JSON in the standard envelope, by POST, answered 200 (seed: a NonExternalizableObject placeholder; here the object\'s own JSON)', async () => {
    const { delivery } = await boot();

    const { request, data } = await sendOne('employee.created', new Employee('Bob'));
    expect(data).toEqual({ name: 'Bob' });
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/some/path');
    expect(request.headers['content-type']).toBe('application/json');
    expectContentLengthOf(request);
    const [attempt] = await delivery.listAttempts(STATIC_ID);
    expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', request: { method: 'POST', body: request.body }, response: { statusCode: 200, reason: 'OK' } });

    // The class matches its subclasses (seed: for=Employee matches an ExternalizableEmployee), and nothing else.
    expect(await dataOf('employee.created', new ExternalizableEmployee('Ext'))).toEqual({ name: 'Ext' });
    expect(await send('employee.created', new Contractor('Carl'))).toHaveLength(0);
  });

  it('scenario 38: a serializer for the Employee type (seed: unnamed single adapter) decides the body — "Bob", and "Susan" for Susan', async () => {
    const seen: WebhookSerializationContext[] = [];
    await boot({ serializers: [{ type: Employee, serialize: (e: Employee, context) => (seen.push(context), e.name) }] });

    expect(await dataOf('employee.created', new Employee('Bob'))).toBe('Bob');
    expect(await dataOf('employee.created', new Employee('Susan'))).toBe('Susan');
    expect(seen).toEqual([
      { eventName: 'employee.created', dialect: 'standard' },
      { eventName: 'employee.created', dialect: 'standard' },
    ]);
  });

  it('scenario 39: a dialect-specific type serializer (seed: the named `webhook-delivery` single adapter) beats the general one, whatever the registration order — "An Employee"', async () => {
    await boot({ serializers: [typeSerializer, namedTypeSerializer] });

    expect(await dataOf('employee.created', new Employee('Bob'))).toBe('An Employee');
  });

  it('scenario 40: a payload that serializes itself (seed: provides IWebhookPayload) beats both type serializers; one that declines falls back to them', async () => {
    await boot({ serializers: [typeSerializer, namedTypeSerializer] });
    const bob = new SelfPayloadEmployee('Bob');

    expect(await dataOf('employee.created', bob)).toEqual({ Class: 'SelfPayloadEmployee', Name: 'Bob' });
    expect(bob.contexts).toEqual([{ eventName: 'employee.created', dialect: 'standard' }]);
    expect(await dataOf('employee.created', new DecliningEmployee('Dee'))).toBe('An Employee');
    expect(await dataOf('employee.created', new Employee('Eve'))).toBe('An Employee');
  });

  it('scenario 41: a serializer for the Employee type and the created event (seed: unnamed multi-adapter) beats the payload\'s own and the type serializers — "employee-and-event"; other events fall back', async () => {
    await boot({ serializers: [typeSerializer, namedTypeSerializer, eventSerializer] });

    expect(await dataOf('employee.created', new Employee('Bob'))).toBe('employee-and-event');
    expect(await dataOf('employee.created', new SelfPayloadEmployee('Bob'))).toBe('employee-and-event');
    expect(await dataOf('employee.updated', new SelfPayloadEmployee('Bob'))).toEqual({ Class: 'SelfPayloadEmployee', Name: 'Bob' });
    expect(await dataOf('employee.updated', new Employee('Bob'))).toBe('An Employee');
  });

  it('scenario 42: a serializer for the type, the event and the dialect (seed: named multi-adapter) has the highest priority — "named-employee-and-event"; when it declines, the next one decides', async () => {
    await boot({ serializers: [typeSerializer, namedTypeSerializer, eventSerializer, namedEventSerializer] });

    expect(await dataOf('employee.created', new Employee('Bob'))).toBe('named-employee-and-event');
    expect(await dataOf('employee.created', new SelfPayloadEmployee('Bob'))).toBe('named-employee-and-event');
    expect(await dataOf('employee.created', new Employee('Susan'))).toBe('employee-and-event');
    expect(await dataOf('employee.updated', new Employee('Bob'))).toBe('An Employee');
  });

  it('scenario 43: a custom dialect `webhook-testing` with its own serializer; setting the subscription\'s dialect changes the body to {"Class": "Employee", "Name": "Bob"}', async () => {
    const { subscriptions, delivery, receiver } = await boot({
      dialects: { 'webhook-testing': new StandardWebhookDialect({ timestamps: 'iso-seconds' }) },
      serializers: [{ type: Employee, dialect: 'webhook-testing', serialize: externalizeEmployee }],
      subscription: { events: ['nothing.here'] },
    });
    // A stored subscription, so its dialect can be changed (static ones are fixed in code).
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/stored`, events: ['employee.created'], payloadType: 'seedB.Employee' });
    expect(subscription.dialect).toBeNull();

    expect(await dataOf('employee.created', new Employee('Bob'))).toEqual({ name: 'Bob' });

    const updated = await subscriptions.update(subscription.id, { dialect: 'webhook-testing' });
    expect(updated.dialect).toBe('webhook-testing');
    const { request, data } = await sendOne('employee.created', new Employee('Bob'));
    expect(data).toEqual({ Class: 'Employee', Name: 'Bob' });
    expectContentLengthOf(request);
    const [latest, first] = await delivery.listAttempts(subscription.id);
    expect(first).toMatchObject({ dialect: 'standard', status: 'successful' });
    expect(latest).toMatchObject({ dialect: 'webhook-testing', status: 'successful' });
  });

  it('scenario 44: with Last Modified 123456789, a standard dialect with timestamps iso-seconds sends "1973-11-29T21:33:09Z" (the library\'s standard dialect renders Dates with JSON\'s ISO form, with milliseconds)', async () => {
    await boot({
      dialects: { 'webhook-testing': new StandardWebhookDialect({ timestamps: 'iso-seconds' }) },
      serializers: [{ type: Employee, dialect: 'webhook-testing', serialize: externalizeEmployee }],
      subscription: { dialect: 'webhook-testing' },
      extraSubscriptions: (url) => [{ id: 'standard', url: `${url}/standard`, events: ['employee.*'], payloadType: Employee, secret: seedSecret() }],
    });

    const requests = await send('employee.created', new Employee('Bob', LAST_MODIFIED));
    expect(requests).toHaveLength(2);
    const byPath = Object.fromEntries(requests.map((r) => [r.path, (JSON.parse(r.body) as { data: unknown }).data]));
    expect(byPath['/some/path']).toEqual({ Class: 'Employee', Name: 'Bob', 'Last Modified': '1973-11-29T21:33:09Z' });
    expect(byPath['/standard']).toEqual({ name: 'Bob', lastModified: '1973-11-29T21:33:09.000Z' });
  });

  it('scenario 45: with timestamps unix-seconds (nti.webhooks policy name null), Last Modified is the number 123456789; the headers are the standard dialect\'s (Standard Webhooks instead of the seed\'s HTTP-library defaults) with a matching Content-Length', async () => {
    const dialect = new StandardWebhookDialect({ timestamps: 'iso-seconds' });
    const { secret, delivery } = await boot({
      dialects: { 'webhook-testing': dialect },
      serializers: [{ type: Employee, dialect: 'webhook-testing', serialize: externalizeEmployee }],
      subscription: { dialect: 'webhook-testing' },
    });
    expect(await dataOf('employee.created', new Employee('Bob', LAST_MODIFIED))).toMatchObject({ 'Last Modified': '1973-11-29T21:33:09Z' });

    // Changed on the live dialect; the next delivery uses it.
    dialect.timestamps = 'unix-seconds';
    const { request, data } = await sendOne('employee.created', new Employee('Bob', LAST_MODIFIED));
    expect(data).toEqual({ Class: 'Employee', Name: 'Bob', 'Last Modified': 123456789 });
    expect(request.method).toBe('POST');
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': `nest-webhooks/${LIBRARY_VERSION}`,
      'webhook-id': expect.any(String),
      'webhook-timestamp': expect.stringMatching(/^\d+$/),
      'webhook-signature': expect.stringMatching(/^v1,/),
    });
    expectContentLengthOf(request);
    expect(() => new StandardWebhook(secret).verify(request.body, request.headers)).not.toThrow();
    const [attempt] = await delivery.listAttempts(STATIC_ID);
    expect(attempt!.request).toMatchObject({ method: 'POST', body: request.body, headers: { 'content-type': 'application/json', 'user-agent': `nest-webhooks/${LIBRARY_VERSION}` } });
  });

  it('scenario 46: a dialect whose method is PUT and user agent "doctests" sends PUT with User-Agent doctests', async () => {
    const dialect = new StandardWebhookDialect({ timestamps: 'iso-seconds' });
    const { delivery } = await boot({
      dialects: { 'webhook-testing': dialect },
      serializers: [{ type: Employee, dialect: 'webhook-testing', serialize: externalizeEmployee }],
      subscription: { dialect: 'webhook-testing' },
    });
    expect((await sendOne('employee.created', new Employee('Bob'))).request.method).toBe('POST');

    dialect.method = 'PUT';
    dialect.userAgent = 'doctests';
    const { request, data } = await sendOne('employee.created', new Employee('Bob'));
    expect(request.method).toBe('PUT');
    expect(request.headers['user-agent']).toBe('doctests');
    expect(data).toEqual({ Class: 'Employee', Name: 'Bob' });
    expectContentLengthOf(request);
    const [attempt] = await delivery.listAttempts(STATIC_ID);
    expect(attempt).toMatchObject({ status: 'successful', request: { method: 'PUT', headers: { 'user-agent': 'doctests' } } });
  });

  it('scenario 47: a dialect declared as a provider with @WebhookDialectProvider (seed: ZCML webhookDialect zcml-dialect: webhook-testing externalizer, default policy, PUT, zcml-tests) used by a static subscription — timestamps unix-seconds, PUT, User-Agent zcml-tests', async () => {
    @Injectable()
    @WebhookDialectProvider('zcml-dialect')
    class ZcmlDialect extends StandardWebhookDialect {
      override timestamps = 'unix-seconds' as const;
      override method = 'PUT';
      override userAgent = 'zcml-tests';
    }
    const { delivery } = await boot({
      providers: [ZcmlDialect],
      // The seed's dialect names its externalizer; here a serializer is registered for the dialect by name.
      serializers: [{ type: Employee, dialect: 'zcml-dialect', serialize: externalizeEmployee }],
      subscription: { dialect: 'zcml-dialect' },
    });
    expect(app!.get(WebhookDialectRegistry).names()).toContain('zcml-dialect');
    expect(app!.get(WebhookDialectRegistry).get('zcml-dialect')).toBeInstanceOf(ZcmlDialect);

    const { request, data } = await sendOne('employee.created', new Employee('Bob', LAST_MODIFIED));
    expect(data).toEqual({ Class: 'Employee', Name: 'Bob', 'Last Modified': 123456789 });
    expect(request.method).toBe('PUT');
    expect(request.headers['user-agent']).toBe('zcml-tests');
    expect(request.headers['content-type']).toBe('application/json');
    expectContentLengthOf(request);
    const [attempt] = await delivery.listAttempts(STATIC_ID);
    expect(attempt).toMatchObject({ dialect: 'zcml-dialect', status: 'successful', message: '200 OK' });
  });
});
