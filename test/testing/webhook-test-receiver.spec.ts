import { request as httpRequest } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookTestClock, WebhookTestReceiver, type WebhookTestReceiverOptions } from 'nest-webhooks/testing';

const SECRET = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
const OTHER_SECRET = 'whsec_' + Buffer.alloc(32, 8).toString('base64');

/** A Standard Webhooks request as a sender would make it, signed at `at` with `secret`. */
function signed(body: object, { secret = SECRET, at = new Date(), id = 'msg_1' } = {}): { headers: Record<string, string>; body: string } {
  const text = JSON.stringify(body);
  return {
    body: text,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, text),
    },
  };
}

describe('WebhookTestReceiver', () => {
  const receivers: WebhookTestReceiver[] = [];
  afterEach(async () => {
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  async function start(options: WebhookTestReceiverOptions = { secret: SECRET }): Promise<WebhookTestReceiver> {
    const receiver = await WebhookTestReceiver.start(options);
    receivers.push(receiver);
    return receiver;
  }

  const post = (receiver: WebhookTestReceiver, request: { headers: Record<string, string>; body: string }, path = '/hooks') =>
    fetch(`${receiver.url}${path}`, { method: 'POST', ...request });

  it('records a signed request, parsed, with its signature verified, and answers 200', async () => {
    const receiver = await start();
    const response = await post(receiver, signed({ type: 'order.created', timestamp: '2026-01-01T00:00:00.000Z', data: { id: 'o-1' } }), '/hooks?x=1');
    expect(response.status).toBe(200);
    expect(receiver.webhooks).toHaveLength(1);
    expect(receiver.webhooks[0]).toMatchObject({
      id: 'msg_1',
      type: 'order.created',
      data: { id: 'o-1' },
      json: { type: 'order.created', data: { id: 'o-1' } },
      method: 'POST',
      path: '/hooks?x=1',
      verified: true,
      verificationError: null,
      status: 200,
    });
    expect(receiver.webhooks[0]!.headers['content-type']).toBe('application/json');
  });

  it('does not verify a wrong secret, missing headers, a timestamp off its clock, or a changed body', async () => {
    const clock = new WebhookTestClock(Date.UTC(2030, 0, 1));
    const receiver = await start({ secret: SECRET, clock });
    await post(receiver, signed({ type: 'a' }, { secret: OTHER_SECRET, at: clock.now() }));
    await post(receiver, { headers: { 'content-type': 'application/json' }, body: '{"type":"b"}' });
    await post(receiver, signed({ type: 'c' })); // signed now, years before the receiver's clock
    const tampered = signed({ type: 'd', data: 1 }, { at: clock.now() });
    await post(receiver, { ...tampered, body: tampered.body.replace('1', '2') });
    await post(receiver, signed({ type: 'e' }, { at: clock.now() }));
    expect(receiver.webhooks.map((w) => [w.type, w.verified, w.verificationError])).toEqual([
      ['a', false, 'no signature matches the secrets'],
      ['b', false, 'missing webhook-id, webhook-timestamp or webhook-signature'],
      ['c', false, expect.stringMatching(/^webhook-timestamp is -\d+ s from the receiver's clock$/)],
      ['d', false, 'no signature matches the secrets'],
      ['e', true, null],
    ]);
  });

  it('accepts any of several secrets (a rotation), and makes one up when given none', async () => {
    const rotating = await start({ secret: [SECRET, OTHER_SECRET] });
    await post(rotating, signed({ type: 'x' }, { secret: OTHER_SECRET }));
    expect(rotating.webhooks[0]!.verified).toBe(true);
    const generated = await start({});
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    await post(generated, signed({ type: 'x' }, { secret: generated.secret }));
    expect(generated.webhooks[0]!.verified).toBe(true);
  });

  it('answers a queued sequence, the last one repeating; responses with headers; a function per request', async () => {
    const receiver = await start();
    receiver.respondWith(503, { status: 429, headers: { 'retry-after': '7' }, body: 'slow down' }, 200);
    const answers = [];
    for (let i = 0; i < 4; i++) {
      const response = await post(receiver, signed({ type: 'x' }));
      answers.push([response.status, response.headers.get('retry-after'), await response.text()]);
    }
    expect(answers).toEqual([
      [503, null, ''],
      [429, '7', 'slow down'],
      [200, null, ''],
      [200, null, ''],
    ]);
    expect(receiver.webhooks.map((w) => w.status)).toEqual([503, 429, 200, 200]);
    receiver.respondWith((webhook) => ((webhook.data as { gone?: boolean } | undefined)?.gone ? 410 : 204));
    expect((await post(receiver, signed({ type: 'x', data: { gone: true } }))).status).toBe(410);
    expect((await post(receiver, signed({ type: 'x', data: {} }))).status).toBe(204);
  });

  it('waitFor a count or a predicate; a timeout says what arrived; clear forgets', async () => {
    const receiver = await start();
    const two = receiver.waitFor(2);
    const created = receiver.waitFor((w) => w.type === 'order.created');
    await post(receiver, signed({ type: 'order.updated' }));
    await post(receiver, signed({ type: 'order.created', data: { id: 'o-9' } }));
    expect((await two).map((w) => w.type)).toEqual(['order.updated', 'order.created']);
    expect((await created).map((w) => w.data)).toEqual([{ id: 'o-9' }]);
    await expect(receiver.waitFor(3, 50)).rejects.toThrow('waited 50 ms for 3 request(s); received 2 (order.updated ✓, order.created ✓)');
    receiver.clear();
    expect(receiver.webhooks).toEqual([]);
    await expect(receiver.waitFor((w) => w.type === 'order.created', 20)).rejects.toThrow('received nothing');
  });

  it('verifies a signature sent in repeated webhook-signature headers (one list, not joined with a comma)', async () => {
    const receiver = await start();
    const { headers, body } = signed({ type: 'order.created' });
    const other = new Webhook(OTHER_SECRET).sign('msg_1', new Date(Number(headers['webhook-timestamp']) * 1000), body);
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${receiver.url}/hooks`);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'webhook-signature': [other, headers['webhook-signature']!] } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    const [webhook] = receiver.webhooks;
    expect(webhook).toMatchObject({ verified: true, verificationError: null, headers: { 'webhook-signature': `${other} ${headers['webhook-signature']}` } });
  });

  it('answers 500 and records why when the responder throws or its answer cannot be sent', async () => {
    const receiver = await start();
    receiver.respondWith(() => {
      throw new Error('the test responder broke');
    });
    expect((await post(receiver, signed({ type: 'x' }))).status).toBe(500);
    receiver.respondWith({ status: 200, headers: { 'bad header': 'x' } });
    expect((await post(receiver, signed({ type: 'x' }))).status).toBe(500);
    receiver.respondWith(99);
    expect((await post(receiver, signed({ type: 'x' }))).status).toBe(500);
    expect(receiver.webhooks.map((w) => [w.status, w.responderError])).toEqual([
      [500, 'the responder threw: the test responder broke'],
      [500, expect.stringMatching(/^answering 200 failed: Header name must be a valid HTTP token/)],
      [500, expect.stringMatching(/^answering 99 failed: Invalid status code: 99/)],
    ]);
    receiver.respondWith(200);
    await post(receiver, signed({ type: 'x' }));
    expect(receiver.webhooks.at(-1)).toMatchObject({ status: 200, responderError: null });
  });

  it('close() rejects a waitFor still waiting, and drops kept-alive connections', async () => {
    const receiver = await WebhookTestReceiver.start({ secret: SECRET });
    await post(receiver, signed({ type: 'x' }));
    const waiting = receiver.waitFor(2, 60_000);
    await receiver.close();
    await expect(waiting).rejects.toThrow('WebhookTestReceiver: closed while waiting; received 1 (x ✓)');
  });
});
