import { randomBytes, randomUUID } from 'node:crypto';
import { Document, Spectral } from '@stoplight/spectral-core';
import { Json } from '@stoplight/spectral-parsers';
import { oas } from '@stoplight/spectral-rulesets';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ALICE_KEY, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { DATABASES } from '../support/databases.js';
import { OpenApiContract } from '../support/openapi-contract.js';
import { TestReceiver } from '../support/receiver.js';

type Operation = { summary?: string; description?: string; operationId?: string; tags?: string[]; responses: Record<string, unknown> };
type Schema = Record<string, any>;

const METRICS_TOKEN = 'metrics-token-0123456789abcdef';
const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`;

describe('example app: the OpenAPI document', () => {
  let api: RunningExampleApp;
  let document: any;

  beforeAll(async () => {
    api = await startExampleApp();
    const served = await api.request('GET', '/docs-json', { key: null });
    expect(served.status).toBe(200);
    document = served.body;
  });
  afterAll(() => api?.close());

  const operations = (): Array<[string, Operation]> =>
    Object.entries(document.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => [`${method.toUpperCase()} ${path}`, op] as [string, Operation]),
    );
  const schema = (name: string): Schema => document.components.schemas[name] as Schema;

  it('passes the spectral:oas ruleset (what `spectral lint` reports with `extends: spectral:oas`) without a single finding', async () => {
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as never, 'recommended']] } as never);
    const findings = await spectral.run(new Document(JSON.stringify(document, null, 2), Json));
    const lines = findings.map((f) => `${['error', 'warning', 'info', 'hint'][f.severity]} ${f.code} at ${f.path.join('.')}: ${f.message}`);
    expect(lines).toEqual([]);
  });

  it('the linter is live: it reports what the document would lack without its care', async () => {
    const spoiled = structuredClone(document);
    delete spoiled.servers;
    delete spoiled.paths['/webhooks/subscriptions'].get.description;
    const spectral = new Spectral();
    spectral.setRuleset({ extends: [[oas as never, 'recommended']] } as never);
    const codes = (await spectral.run(new Document(JSON.stringify(spoiled), Json))).map((f) => f.code);
    expect(codes).toEqual(expect.arrayContaining(['oas3-api-servers', 'operation-description']));
  });

  it('every operation has a summary, a description, a unique operationId and a declared tag; a server and an opaque bearer scheme', () => {
    const declaredTags = new Set(document.tags.map((t: { name: string; description?: string }) => (t.description ? t.name : '')));
    const ids = new Set<string>();
    for (const [name, op] of operations()) {
      expect(op.summary, name).toBeTruthy();
      expect(op.description, name).toBeTruthy();
      expect(op.operationId, name).toMatch(/^[a-z][A-Za-z]+$/);
      expect(ids.has(op.operationId!), `${name}: operationId ${op.operationId} repeats`).toBe(false);
      ids.add(op.operationId!);
      for (const tag of op.tags ?? []) expect(declaredTags.has(tag), `${name}: tag ${tag}`).toBe(true);
    }
    expect(document.servers).toEqual([expect.objectContaining({ url: '/' })]);
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.securitySchemes.bearer).not.toHaveProperty('bearerFormat');
    expect(document.components.securitySchemes.bearer.description).toMatch(/opaque/);
  });

  it('declares every error status a route can answer, each with the ApiError schema', () => {
    const expected: Record<string, number[]> = {
      'POST /webhooks/subscriptions': [400, 401, 413, 415],
      'GET /webhooks/subscriptions': [400, 401],
      'GET /webhooks/subscriptions/{id}': [400, 401, 404],
      'PATCH /webhooks/subscriptions/{id}': [400, 401, 404, 413, 415],
      'DELETE /webhooks/subscriptions/{id}': [400, 401, 404],
      'POST /webhooks/subscriptions/{id}/activate': [400, 401, 404, 413, 415],
      'POST /webhooks/subscriptions/{id}/deactivate': [400, 401, 404, 413, 415],
      'POST /webhooks/subscriptions/{id}/rotate-secret': [400, 401, 404, 413, 415],
      'POST /webhooks/subscriptions/{id}/test': [400, 401, 404, 409, 413, 415],
      'GET /webhooks/subscriptions/{id}/attempts': [400, 401, 404],
      'GET /webhooks/attempts/{id}': [400, 401, 404],
      'POST /webhooks/attempts/{id}/redeliver': [400, 401, 404, 409, 413, 415],
      'POST /orders': [400, 401, 413, 415],
      'PATCH /orders/{id}': [400, 401, 404, 413, 415],
      'DELETE /orders/{id}': [400, 401, 404],
      'GET /health': [400, 503],
      'GET /metrics': [400, 401],
    };
    const found = Object.fromEntries(operations().map(([name, op]) => [name, Object.keys(op.responses).map(Number).filter((s) => s >= 400)]));
    expect(found).toEqual(expected);
    for (const [name, op] of operations()) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && Number(status) !== 503) {
          expect((response as Schema).content['application/json'].schema, `${name} ${status}`).toEqual({ $ref: '#/components/schemas/ApiError' });
        }
      }
    }
    expect(schema('ApiError').required).toEqual(['statusCode', 'error', 'message']);
  });

  it('states the constraints the API enforces', () => {
    const create = schema('CreateSubscriptionDto').properties;
    expect(create.url).toMatchObject({ maxLength: 2048, minLength: 1 });
    expect(create.events).toMatchObject({ minItems: 1, maxItems: 100, items: { maxLength: 200, pattern: expect.any(String) } });
    const eventPattern = new RegExp(create.events.items.pattern);
    for (const good of ['order.created', 'order.*', '**', 'a.**.b']) expect(eventPattern.test(good), good).toBe(true);
    for (const bad of ['order..created', '', 'order.*x', 'a b']) expect(eventPattern.test(bad), bad).toBe(false);
    expect(create.payloadType.enum).toEqual(['Order']);
    expect(create.retrySchedule).toMatchObject({ maxItems: 20, items: { type: 'integer', minimum: 1000, maximum: 604800000 } });
    expect(create.headers).toMatchObject({ maxProperties: 20, additionalProperties: { maxLength: 1000 } });
    expect(create.headers.not.anyOf).toEqual(expect.arrayContaining([{ required: ['host'] }, { required: ['webhook-signature'] }]));
    expect(create.headers.description).toMatch(/x-forwarded-/);
    expect(create.metadata).toMatchObject({ maxProperties: 50 });
    expect(create.secret).toMatchObject({ writeOnly: true, pattern: expect.any(String) });
    expect(new RegExp(create.secret.pattern).test(newSecret())).toBe(true);
    expect(new RegExp(create.secret.pattern).test('whsec_short')).toBe(false);
    expect(schema('RotateSecretDto').properties.secret).toMatchObject({ pattern: create.secret.pattern });
    expect(schema('CreateOrderDto').properties.quantity).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000 });
    expect(schema('UpdateOrderDto').properties.quantity).toMatchObject({ type: 'integer', minimum: 1, maximum: 1_000_000 });

    const parameter = (path: string, name: string) => document.paths[path].get.parameters.find((p: { name: string }) => p.name === name).schema;
    for (const path of ['/webhooks/subscriptions', '/webhooks/subscriptions/{id}/attempts']) {
      expect(parameter(path, 'limit'), path).toEqual({ type: 'integer', minimum: 1, maximum: 100, default: 50 });
    }
    expect(parameter('/webhooks/subscriptions', 'after').pattern).toBeTruthy();
    expect(new RegExp(parameter('/webhooks/subscriptions/{id}/attempts', 'before').pattern).test(randomUUID())).toBe(false); // v4, not an attempt id
  });
});

describe.each(DATABASES)('example app: every real answer matches the OpenAPI document (%s)', (database) => {
  let api: RunningExampleApp;
  let receiver: TestReceiver;
  let contract: OpenApiContract;
  const seen: Array<{ operation: string; status: number }> = [];
  const breaches: string[] = [];

  beforeAll(async () => {
    receiver = await TestReceiver.start();
    api = await startExampleApp({ WEBHOOKS_METRICS_TOKEN: METRICS_TOKEN }, { database });
    contract = new OpenApiContract((await api.request('GET', '/docs-json', { key: null })).body);
  });
  afterAll(async () => {
    await api?.close();
    await receiver?.close();
  });

  /** Sends a request to a route of the document (`template` with `{id}`), checks the answer against it, and returns it. */
  async function call(
    method: string,
    template: string,
    options: { id?: string; query?: string; key?: string | null; body?: unknown; raw?: string; contentType?: string } = {},
  ): Promise<{ status: number; body: any }> {
    const { key = ALICE_KEY, body, raw, contentType = 'application/json' } = options;
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
    if (payload !== undefined && contentType) headers['content-type'] = contentType;
    const url = api.baseUrl + template.replace('{id}', options.id ?? '') + (options.query ?? '');
    // Bytes, not a string: fetch() would add a text/plain content type to a string body.
    const response = await fetch(url, { method, headers, body: payload === undefined ? undefined : new TextEncoder().encode(payload) });
    const text = await response.text();
    let parsed: unknown = text === '' ? null : text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // kept as text: the contract says whether that is wrong
    }
    seen.push({ operation: `${method} ${template}`, status: response.status });
    breaches.push(...contract.problems(method, template, response.status, response.headers.get('content-type'), parsed));
    return { status: response.status, body: parsed };
  }

  it('the contract check is live: it refuses an undeclared status, an undocumented or missing field, a null where none may be', async () => {
    const order = { id: randomUUID(), item: 'book', quantity: 2, createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() };
    const ok = (body: unknown, status = 201) => contract.problems('POST', '/orders', status, 'application/json', body);
    expect(ok(order)).toEqual([]);
    expect(ok(order, 418)).toEqual([expect.stringMatching(/status not declared/)]);
    expect(ok({ ...order, ownerId: 'alice' })).not.toEqual([]);
    expect(ok({ ...order, id: undefined })).not.toEqual([]);
    expect(ok({ ...order, item: null })).not.toEqual([]);
    expect(ok({ ...order, quantity: 1.5 })).not.toEqual([]);
    expect(ok({ statusCode: 400, message: 'x' }, 400)).not.toEqual([]); // no `error`
    expect(contract.problems('DELETE', '/orders/{id}', 204, null, null)).toEqual([]);
    expect(contract.problems('DELETE', '/orders/{id}', 204, 'application/json', { deleted: true })).not.toEqual([]);
    expect(contract.problems('GET', '/orders', 200, 'application/json', [])).toEqual([expect.stringMatching(/no such operation/)]);
  });

  it('happy paths and each error class (400, 401, 404, 409, 413, 415) answer as declared', async () => {
    const unknown = randomUUID();

    // ---- health, and 401 on every route that needs a key
    expect((await call('GET', '/health')).status).toBe(200);
    expect((await call('GET', '/health', { query: '?__proto__=x' })).status).toBe(400);
    expect((await call('GET', '/metrics', { key: METRICS_TOKEN })).status).toBe(200);
    for (const operation of contract.operations().filter((o) => o !== 'GET /health')) {
      const [method, template] = operation.split(' ') as [string, string];
      expect((await call(method, template, { id: unknown, key: null })).status, operation).toBe(401);
    }
    expect((await call('GET', '/webhooks/subscriptions', { key: 'not-a-key-0123456789' })).status).toBe(401);

    // ---- subscriptions: create with every field, a supplied secret and credentials in the URL
    const secret = newSecret(48);
    const created = await call('POST', '/webhooks/subscriptions', {
      body: {
        url: `https://user:pw@${new URL(receiver.url).host}/in?token=t0k3n&page=2`,
        events: ['order.*', 'webhook.test'],
        payloadType: 'Order',
        description: 'all fields',
        metadata: { team: 'billing' },
        headers: { 'x-receiver-token': 'receiver-secret' },
        retrySchedule: [1000],
        secret,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toBe(secret); // the supplied secret is the one in effect, shown once
    expect(created.body.url).toBe(`https://***@${new URL(receiver.url).host}/in?token=***&page=2`);
    const id: string = created.body.id;
    const second = await call('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/second` } });
    expect(second.status).toBe(201);

    // ---- the list, a page at a time
    const first = await call('GET', '/webhooks/subscriptions', { query: '?limit=1' });
    expect(first.body.data.map((s: { id: string }) => s.id)).toEqual([id]);
    const next = await call('GET', '/webhooks/subscriptions', { query: `?limit=1&after=${first.body.nextCursor}` });
    expect(next.body).toMatchObject({ data: [{ id: second.body.id }], nextCursor: null });
    expect(JSON.stringify([first.body, next.body])).not.toContain(secret);

    // ---- reads and changes
    expect((await call('GET', '/webhooks/subscriptions/{id}', { id })).status).toBe(200);
    expect((await call('PATCH', '/webhooks/subscriptions/{id}', { id, body: { payloadType: null, description: 'changed' } })).body).toMatchObject({ payloadType: null });
    expect((await call('POST', '/webhooks/subscriptions/{id}/deactivate', { id })).body.active).toBe(false);
    expect((await call('POST', '/webhooks/subscriptions/{id}/activate', { id })).body.active).toBe(true);
    const rotatedSecret = newSecret(24);
    const rotated = await call('POST', '/webhooks/subscriptions/{id}/rotate-secret', { id, body: { overlapSeconds: 0, secret: rotatedSecret } });
    expect(rotated).toMatchObject({ status: 200, body: { secret: rotatedSecret } });

    // ---- orders and deliveries
    const order = await call('POST', '/orders', { body: { item: 'book', quantity: 2 } });
    expect(order.status).toBe(201);
    expect((await call('PATCH', '/orders/{id}', { id: order.body.id, body: { quantity: 3 } })).status).toBe(200);
    expect((await call('DELETE', '/orders/{id}', { id: order.body.id })).status).toBe(204);
    const test = await call('POST', '/webhooks/subscriptions/{id}/test', { id });
    expect(test).toMatchObject({ status: 202, body: { subscriptionId: id, eventName: 'webhook.test' } });
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const delivered = receiver.requests.find((r) => r.headers['webhook-id'] === test.body.webhookId)!;
    expect(new StandardWebhook(rotatedSecret).verify(delivered.body, delivered.headers)).toMatchObject({ type: 'webhook.test' });

    const attempts = await call('GET', '/webhooks/subscriptions/{id}/attempts', { id, query: '?limit=2' });
    expect(attempts.body.data).toHaveLength(2);
    const older = await call('GET', '/webhooks/subscriptions/{id}/attempts', { id, query: `?limit=2&before=${attempts.body.nextCursor}` });
    expect(older.body.data.length).toBeGreaterThan(0);
    const detail = await call('GET', '/webhooks/attempts/{id}', { id: test.body.id });
    expect(detail.body.request.url).toBe(`https://***@${new URL(receiver.url).host}/in?token=***&page=2`);
    const redelivered = await call('POST', '/webhooks/attempts/{id}/redeliver', { id: test.body.id });
    expect(redelivered).toMatchObject({ status: 202, body: { webhookId: test.body.webhookId } });
    expect(Object.keys(redelivered.body).sort()).toEqual(Object.keys(test.body).sort()); // one attempt shape for both

    // ---- 400: validation (one message, the field, every problem), the library's checks, the parser, cursors
    const invalid = await call('POST', '/webhooks/subscriptions', { body: { url: `https://example.com/${'a'.repeat(2100)}`, events: [], extra: 1 } });
    expect(invalid.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'extra' });
    expect(invalid.body.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['extra', 'url', 'events']));
    expect(typeof invalid.body.message).toBe('string');
    const payloadType = await call('POST', '/webhooks/subscriptions', { body: { url: receiver.url, payloadType: 'Invoice' } });
    expect(payloadType.body).toMatchObject({ statusCode: 400, field: 'payloadType', message: expect.stringContaining('Order') });
    expect(payloadType.body.message).not.toMatch(/@WebhookPayload|forRoot/);
    expect((await call('POST', '/webhooks/subscriptions', { body: { url: 'https://10.0.0.1/' } })).body).toMatchObject({ statusCode: 400, field: 'url' });
    const unpadded = newSecret().replace(/=$/, '');
    expect((await call('POST', '/webhooks/subscriptions/{id}/rotate-secret', { id, body: { secret: unpadded } })).body).toMatchObject({ statusCode: 400, field: 'secret' });
    expect((await call('POST', '/webhooks/subscriptions/{id}/rotate-secret', { id, body: { secret: 'whsec_short' } })).body).toMatchObject({ statusCode: 400, field: 'secret' });
    expect((await call('POST', '/orders', { raw: '{"item":' })).body).toMatchObject({ statusCode: 400, message: expect.stringMatching(/not valid JSON/) });
    expect((await call('POST', '/orders', { raw: '{"a":{"__proto__":{}}}' })).body).toMatchObject({ statusCode: 400, field: 'a.__proto__' });
    expect((await call('GET', '/webhooks/subscriptions', { query: '?after=bm90LWEtY3Vyc29y' })).body).toMatchObject({ statusCode: 400, field: 'after' });
    expect((await call('GET', '/webhooks/subscriptions', { query: '?limit=101' })).body).toMatchObject({ statusCode: 400, field: 'limit' });
    expect((await call('GET', '/webhooks/subscriptions/{id}/attempts', { id, query: '?before=nonsense' })).body).toMatchObject({ statusCode: 400, field: 'before' });
    expect((await call('GET', '/webhooks/subscriptions/{id}', { id, query: '?constructor=x' })).body).toMatchObject({ statusCode: 400, field: 'constructor' });

    // ---- 404 on every route with an id, for an unknown one
    for (const operation of contract.operations().filter((o) => o.includes('{id}'))) {
      const [method, template] = operation.split(' ') as [string, string];
      const body = method === 'PATCH' ? {} : undefined;
      expect((await call(method, template, { id: unknown, body })).body, operation).toMatchObject({ statusCode: 404, error: 'Not Found' });
    }

    // ---- 409: a test event to an inactive subscription, and redelivering one of its attempts
    await call('POST', '/webhooks/subscriptions/{id}/deactivate', { id });
    expect((await call('POST', '/webhooks/subscriptions/{id}/test', { id })).body).toMatchObject({ statusCode: 409, error: 'Conflict' });
    expect((await call('POST', '/webhooks/attempts/{id}/redeliver', { id: test.body.id })).body).toMatchObject({ statusCode: 409, error: 'Conflict' });

    // ---- 413 and 415: before any validation
    const big = await call('POST', '/orders', { body: { item: 'x'.repeat(150_000), quantity: 1 } });
    expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    for (const [contentType, raw] of [
      ['text/plain', '{"item":"book","quantity":1}'],
      ['application/x-www-form-urlencoded', 'item=book&quantity=1'],
      ['', '{"item":"book","quantity":1}'],
    ] as const) {
      const refused = await call('POST', '/orders', { raw, contentType });
      expect(refused.body, contentType || 'no content type').toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    }
    expect((await call('PATCH', '/webhooks/subscriptions/{id}', { id, raw: 'description=x', contentType: 'text/plain' })).status).toBe(415);

    // ---- delete
    expect((await call('DELETE', '/webhooks/subscriptions/{id}', { id })).status).toBe(204);

    // Every answer matched; every operation answered at least once with success; every error class was seen.
    expect(breaches).toEqual([]);
    const succeeded = new Set(seen.filter((s) => s.status < 300).map((s) => s.operation));
    expect(contract.operations().filter((o) => !succeeded.has(o))).toEqual([]);
    expect([...new Set(seen.map((s) => s.status))].sort()).toEqual([200, 201, 202, 204, 400, 401, 404, 409, 413, 415]);
  });
});
