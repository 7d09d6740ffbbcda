import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { gzipSync } from 'node:zlib';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidWebhookSubscriptionError, StandardWebhookDialect, type WebhookAttempt, WebhookDeliveryManager, WebhookMessages, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { type PreparedWebhookRequest, redactHeaders, redactUrl, type WebhookRequestContext } from 'nest-webhooks/extensions';
import { FakeResolver } from '../support/fake-resolver.js';
import { ok, type ReceivedRequest, type Responder, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * Issue "Safe by default" — what goes on the wire (reliability-security.md §C5 "Header injection" and
 * "Redaction"). The golden test pins the exact outgoing header set of the standard dialect, so a header nobody
 * meant to send (GitHub's 2025 `X-Github-Encoded-Secret` leak) fails it.
 */

const EVENT = 'order.created';
const SECRET = `whsec_${Buffer.alloc(32, 0x5a).toString('base64')}`;
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');

/**
 * The exact header names a receiver gets from the standard dialect over the axios transport (lower-cased).
 * Adding one here must be a deliberate decision.
 */
const GOLDEN_HEADERS = [
  'accept',
  'accept-encoding',
  'connection',
  'content-length',
  'content-type',
  'host',
  'user-agent',
  'webhook-id',
  'webhook-signature',
  'webhook-timestamp',
];

/** Forms of the signing secret that must never show up anywhere on the wire or in a record. */
const SECRET_FORMS = [SECRET, SECRET.slice('whsec_'.length), KEY.toString('hex'), KEY.toString('base64url'), KEY.toString('latin1')];

function expectNoSecret(text: string): void {
  for (const form of SECRET_FORMS) expect(text).not.toContain(form);
}

describe('outgoing headers: golden set, subscription headers, redaction of stored records', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = undefined;
    receiver = undefined;
  });

  async function boot(options: { responder?: Responder; webhooks?: WebhooksModuleOptions } = {}) {
    receiver = await TestReceiver.start({ responder: options.responder ?? ok() });
    app = await createWebhooksApp({ webhooks: { ...options.webhooks, delivery: { retrySchedule: [], ...options.webhooks?.delivery } } });
    return { receiver, app, subscriptions: app.get(WebhookSubscriptionManager), delivery: app.get(WebhookDeliveryManager) };
  }

  async function deliver(subscriptionId: string, payload: unknown = { id: 'o-1', item: 'book' }): Promise<WebhookAttempt> {
    app!.get(EventEmitter2).emit(EVENT, payload);
    await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const [attempt] = await app!.get(WebhookDeliveryManager).listAttempts(subscriptionId, { limit: 1 });
    expect(attempt).toBeDefined();
    return attempt!;
  }

  const onWire = (request: ReceivedRequest) => request.rawHeaderNames.map((name) => `${name}: ${request.headers[name.toLowerCase()]}`).join('\r\n');

  it('GOLDEN: the standard dialect sends exactly these headers, each once, none carrying the secret', async () => {
    const { receiver, subscriptions } = await boot();
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/golden`, events: [EVENT], secret: SECRET });
    const attempt = await deliver(subscription.id);
    expect(attempt.status).toBe('successful');

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    const names = request.rawHeaderNames.map((n) => n.toLowerCase());
    expect([...names].sort()).toEqual(GOLDEN_HEADERS);
    expect(new Set(names).size).toBe(names.length); // no header twice
    expect(Object.keys(request.headers).sort()).toEqual(GOLDEN_HEADERS);

    // The values, as far as they are fixed.
    expect(request.headers).toMatchObject({
      accept: '*/*',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(request.body)),
      connection: 'keep-alive',
      host: new URL(receiver.url).host,
      'webhook-id': attempt.webhookId,
    });
    expect(request.headers['user-agent']).toMatch(/^nest-webhooks\/\d+\.\d+\.\d+/);
    expect(request.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(() => new Webhook(SECRET).verify(request.body, request.headers)).not.toThrow();

    // Nothing on the wire (header block, path, body) carries the signing secret in any encoding.
    expectNoSecret(onWire(request));
    expectNoSecret(request.path);
    expectNoSecret(request.body);
  });

  it('GOLDEN, control: a dialect that adds one more header (like X-Github-Encoded-Secret) changes the set the test pins', async () => {
    class LeakyDialect extends StandardWebhookDialect {
      override headers(context: WebhookRequestContext): Record<string, string> {
        return { ...super.headers(context), 'x-encoded-secret': Buffer.from(context.secrets[0]!).toString('base64') };
      }
    }
    const { receiver, subscriptions } = await boot({ webhooks: { dialects: { leaky: new LeakyDialect() } } });
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/leaky`, events: [EVENT], secret: SECRET, dialect: 'leaky' });
    await deliver(subscription.id);
    const names = receiver.requests[0]!.rawHeaderNames.map((n) => n.toLowerCase()).sort();
    expect(names).not.toEqual(GOLDEN_HEADERS);
    expect(names.filter((n) => !GOLDEN_HEADERS.includes(n))).toEqual(['x-encoded-secret']);
  });

  it('the transport does not advertise response encodings it does not decode: a receiver that honours Accept-Encoding leaves a readable stored body', async () => {
    // A typical server (nginx/express compression) compresses when the request allows it.
    const responder: Responder = (request, res) => {
      const text = 'thanks, received';
      if (/\b(gzip|br|deflate)\b/.test(request.headers['accept-encoding'] ?? '')) {
        res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip' }).end(gzipSync(text));
      } else {
        res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
      }
    };
    const { receiver, subscriptions } = await boot({ responder });
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/encoding`, events: [EVENT] });
    const attempt = await deliver(subscription.id);
    expect(attempt.status).toBe('successful');
    // The transport reads with `decompress: false` and stores the bytes, so it must not ask for gzip/br/deflate
    // (or it must decode what it asked for): the stored body is what the receiver said.
    expect(attempt.response!.body).toBe('thanks, received');
  });

  it('subscription-defined headers are sent on the wire (names lower-cased, values unchanged) and only they are added', async () => {
    const { receiver, subscriptions } = await boot();
    const headers = { 'X-Receiver-Token': 'rcv-token-123', Authorization: 'Bearer sub-bearer-456', 'x-tenant': 'acme' };
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/custom`, events: [EVENT], headers });
    // Header values are write-only like the secret: only the names are shown.
    expect(subscription.headerNames).toEqual(['x-receiver-token', 'authorization', 'x-tenant']);
    expect(JSON.stringify(await subscriptions.get(subscription.id))).not.toContain('rcv-token-123');
    await deliver(subscription.id);

    const request = receiver.requests[0]!;
    expect(request.headers).toMatchObject({ 'x-receiver-token': 'rcv-token-123', authorization: 'Bearer sub-bearer-456', 'x-tenant': 'acme' });
    const names = request.rawHeaderNames.map((n) => n.toLowerCase()).sort();
    expect(names).toEqual([...GOLDEN_HEADERS, 'authorization', 'x-receiver-token', 'x-tenant'].sort());
  });

  describe('subscription headers refused at creation and update', () => {
    const DENIED = [
      'host',
      'Host',
      'HOST',
      'content-length',
      'Content-Length',
      'transfer-encoding',
      'connection',
      'keep-alive',
      'upgrade',
      'te',
      'trailer',
      'expect',
      'proxy-authorization',
      'Proxy-Authorization',
      'proxy-connection',
      'proxy-anything',
      'x-forwarded-for',
      'X-Forwarded-Host',
      'x-forwarded-proto',
      'forwarded',
      'via',
      'x-real-ip',
      'webhook-signature',
      'Webhook-Signature',
      'webhook-id',
      'webhook-timestamp',
      'svix-signature',
      'svix-id',
      'svix-timestamp',
      'x-amz-security-token',
      'x-goog-api-key',
      'x-ms-client-principal',
      'cf-connecting-ip',
      'x-envoy-original-path',
      'x-nest-webhooks-anything',
    ];

    for (const name of DENIED) {
      it(`header "${name}" is refused (field headers), at create and at update`, async () => {
        const { receiver, subscriptions } = await boot();
        const error = await subscriptions.create({ url: receiver.url, headers: { [name]: 'value' } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect(error).toMatchObject({ field: 'headers' });
        expect((error as InvalidWebhookSubscriptionError).reason).toContain(name);
        expect(await subscriptions.list({ source: 'persistent' })).toEqual([]);

        const { subscription } = await subscriptions.create({ url: receiver.url, headers: { 'x-ok': 'fine' } });
        const updateError = await subscriptions.update(subscription.id, { headers: { [name]: 'value' } }).catch((e: unknown) => e);
        expect(updateError).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect(updateError).toMatchObject({ field: 'headers' });
        expect((await subscriptions.get(subscription.id))!.headerNames).toEqual(['x-ok']);
      });
    }

    const BAD_VALUES: Array<[string, string]> = [
      ['CR LF (header injection)', 'ok\r\nX-Injected: 1'],
      ['bare LF', 'ok\nX-Injected: 1'],
      ['bare CR', 'ok\rX-Injected: 1'],
      ['NUL', 'ok\u0000tail'],
      ['CR LF CR LF (request splitting)', 'ok\r\n\r\nGET /admin HTTP/1.1'],
      ['DEL', 'ok\u007f'],
    ];
    for (const [what, value] of BAD_VALUES) {
      it(`a header value with ${what} is refused`, async () => {
        const { receiver, subscriptions } = await boot();
        const error = await subscriptions.create({ url: receiver.url, headers: { 'x-custom': value } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect(error).toMatchObject({ field: 'headers' });
      });
    }

    for (const name of ['bad header', 'x-a:b', 'x-crlf\r\nx-injected', '', 'x-ünïcode', '(paren)']) {
      it(`an invalid header name ${JSON.stringify(name)} is refused`, async () => {
        const { receiver, subscriptions } = await boot();
        const error = await subscriptions.create({ url: receiver.url, headers: { [name]: 'v' } }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect(error).toMatchObject({ field: 'headers' });
      });
    }

    it('a non-string header value is refused', async () => {
      const { receiver, subscriptions } = await boot();
      const error = await subscriptions.create({ url: receiver.url, headers: { 'x-n': 42 } as never }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expect(error).toMatchObject({ field: 'headers' });
    });
  });

  it('a dialect that produces a deny-listed header fails its attempt locally and sends nothing', async () => {
    class SpoofingDialect extends StandardWebhookDialect {
      override headers(context: WebhookRequestContext): Record<string, string> {
        return { ...super.headers(context), 'x-forwarded-for': '127.0.0.1' };
      }
    }
    const { receiver, subscriptions } = await boot({ webhooks: { dialects: { spoofing: new SpoofingDialect() } } });
    const { subscription } = await subscriptions.create({ url: receiver.url, events: [EVENT], dialect: 'spoofing' });
    const attempt = await deliver(subscription.id);
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.LocalError });
    expect(attempt.history.map((t) => t.errorCode)).toEqual(['dialect']);
    expect(receiver.requests).toHaveLength(0);
  });

  it('stored request records: subscription headers, authorization, cookie and webhook-signature are [redacted]; other headers are kept', async () => {
    class CookieDialect extends StandardWebhookDialect {
      override headers(context: WebhookRequestContext): Record<string, string> {
        return { ...super.headers(context), cookie: 'sid=dialect-cookie-789', 'x-trace': 'trace-1' };
      }
    }
    const responder: Responder = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'set-cookie': 'session=resp-cookie-000; HttpOnly' }).end('ok');
    };
    const { receiver, subscriptions } = await boot({ responder, webhooks: { dialects: { cookie: new CookieDialect() } } });
    const { subscription } = await subscriptions.create({
      url: `${receiver.url}/records`,
      events: [EVENT],
      secret: SECRET,
      dialect: 'cookie',
      headers: { Authorization: 'Bearer sub-bearer-456', 'X-Receiver-Token': 'rcv-token-123' },
    });
    const attempt = await deliver(subscription.id);
    expect(attempt.status).toBe('successful');

    // The receiver got the real values...
    const wire = receiver.requests[0]!.headers;
    expect(wire).toMatchObject({ authorization: 'Bearer sub-bearer-456', 'x-receiver-token': 'rcv-token-123', cookie: 'sid=dialect-cookie-789' });
    // ...the record holds none of them.
    expect(attempt.request!.headers).toMatchObject({
      authorization: '[redacted]',
      'x-receiver-token': '[redacted]',
      cookie: '[redacted]',
      'webhook-signature': '[redacted]',
      'x-trace': 'trace-1',
      'content-type': 'application/json',
      'webhook-id': attempt.webhookId,
    });
    expect(attempt.response!.headers['set-cookie']).toBe('[redacted]');

    const stored = JSON.stringify(await app!.get(WebhookDeliveryManager).getAttempt(attempt.id));
    for (const value of ['sub-bearer-456', 'rcv-token-123', 'dialect-cookie-789', 'resp-cookie-000', wire['webhook-signature']!.slice(3)]) {
      expect(stored).not.toContain(value);
    }
    expectNoSecret(stored);
  });

  it('proxy-authorization (which no subscription or dialect may set) is redacted by the same redaction', () => {
    expect(redactHeaders({ 'Proxy-Authorization': 'Basic cHJveHk6cHc=', Authorization: 'x', Cookie: 'c', 'Webhook-Signature': 's', 'x-keep': 'k' })).toEqual({
      'Proxy-Authorization': '[redacted]',
      Authorization: '[redacted]',
      Cookie: '[redacted]',
      'Webhook-Signature': '[redacted]',
      'x-keep': 'k',
    });
    expect(redactHeaders({ 'X-Api-Key': 'k1', other: 'o' }, ['x-api-key'])).toEqual({ 'X-Api-Key': '[redacted]', other: 'o' });
  });

  it('URL credentials and token-like query values are masked in the stored request URL; the receiver gets the real URL', async () => {
    const resolver = new FakeResolver().set('public.example', ['127.0.0.1']);
    const { receiver, subscriptions } = await boot({ webhooks: { destinations: { lookup: resolver.lookup, allowPrivateNetworks: ['127.0.0.1/32'] } } });
    const query = 'token=tok-abc-111&api_key=key-def-222&access_token=at-ghi-333&sig=sig-444&client_secret=cs-555&page=2&sort=asc';
    const { subscription } = await subscriptions.create({
      url: `https://alice:pw-666@public.example:${receiver.port}/in?${query}`,
      events: [EVENT],
    });
    const attempt = await deliver(subscription.id);
    expect(attempt.status).toBe('successful');
    expect(receiver.requests[0]!.path).toBe(`/in?${query}`);

    const stored = new URL(attempt.request!.url);
    expect(stored.username).not.toBe('alice');
    expect(stored.password).not.toBe('pw-666');
    expect(stored.hostname).toBe('public.example');
    expect(stored.pathname).toBe('/in');
    for (const name of ['token', 'api_key', 'access_token', 'sig', 'client_secret']) expect(stored.searchParams.get(name)).toBe('***');
    expect(stored.searchParams.get('page')).toBe('2');
    expect(stored.searchParams.get('sort')).toBe('asc');

    const record = JSON.stringify(attempt);
    for (const value of ['alice', 'pw-666', 'tok-abc-111', 'key-def-222', 'at-ghi-333', 'sig-444', 'cs-555']) expect(record).not.toContain(value);
    // Readable as stored and shown: no percent-escaped mask, one mask for the whole user-info.
    expect(attempt.request!.url).toBe(`https://***@public.example:${receiver.port}/in?token=***&api_key=***&access_token=***&sig=***&client_secret=***&page=2&sort=asc`);
    expect(redactUrl('https://u:p@h.example/x?password=p1&q=1')).toBe('https://***@h.example/x?password=***&q=1');
    expect(redactUrl('https://u@h.example/x')).toBe('https://***@h.example/x');
    expect(redactUrl('https://h.example/x?page=1')).toBe('https://h.example/x?page=1');
  });

  it('a failed try to a URL with a token leaves the token out of the record, the message and the exception history', async () => {
    const { receiver, subscriptions } = await boot();
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/in?token=tok-fail-777`, events: [EVENT] });
    receiver.respondWith((_request, res) => void res.socket?.destroy());
    const attempt = await deliver(subscription.id);
    expect(attempt.status).toBe('failed');
    expect(JSON.stringify(attempt)).not.toContain('tok-fail-777');
  });

  it('a dialect request record keeps a PreparedWebhookRequest shape (method, url, headers, body) with nothing sensitive', async () => {
    class PutDialect extends StandardWebhookDialect {
      override method = 'PUT';
      override prepareRequest(context: WebhookRequestContext): PreparedWebhookRequest {
        const request = super.prepareRequest(context);
        return { ...request, headers: { ...request.headers, authorization: 'Bearer from-dialect-888' } };
      }
    }
    const { receiver, subscriptions } = await boot({ webhooks: { dialects: { put: new PutDialect() } } });
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/put`, events: [EVENT], dialect: 'put' });
    const attempt = await deliver(subscription.id);
    expect(receiver.requests[0]!.method).toBe('PUT');
    expect(receiver.requests[0]!.headers.authorization).toBe('Bearer from-dialect-888');
    expect(attempt.request).toMatchObject({ method: 'PUT', headers: { authorization: '[redacted]' } });
    expect(JSON.stringify(attempt)).not.toContain('from-dialect-888');
  });
});
