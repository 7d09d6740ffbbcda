import { EventEmitter2 } from '@nestjs/event-emitter';
import type { INestApplication } from '@nestjs/common';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookTransport, WebhookTransportError } from 'nest-webhooks/extensions';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * `delivery.transport: 'undici-thread'`: the HTTP work runs in a worker thread. The rest of the suite can run
 * on it with WEBHOOKS_TEST_TRANSPORT=undici-thread; the fault table and the destination corpus run it always.
 * Here: what is particular to the thread — the guard's answers cross the boundary, a dead thread fails only
 * the requests it held and is replaced, and shutdown ends the thread.
 */
describe('the sending thread (undici-thread transport)', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = receiver = undefined;
  });

  const boot = (extra: object = {}) =>
    createWebhooksApp({ webhooks: { delivery: { transport: 'undici-thread', retrySchedule: [], timeoutMs: 5000, ...extra } } });

  it('delivers a signed request over HTTPS (the test CA crosses into the thread) that standardwebhooks verifies', async () => {
    receiver = await TestReceiver.start();
    app = await boot();
    const { subscription, secret } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hooks`, events: ['order.created'] });
    for (let i = 0; i < 20; i++) app.get(EventEmitter2).emit('order.created', { id: `o-${i}` });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    expect(receiver.requests).toHaveLength(20);
    for (const request of receiver.requests) expect(() => new StandardWebhook(secret).verify(request.body, request.headers)).not.toThrow();
    const attempts = await app.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempts.map((a) => a.status)).toEqual(Array(20).fill('successful'));
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set(attempts.map((a) => a.webhookId)));
  });

  it('a thread that dies fails only the requests in flight (retryable "unknown"), and the next request starts a new one', async () => {
    let hang = true;
    receiver = await TestReceiver.start({
      responder: (_request, res) => {
        if (hang) return; // never answers
        res.writeHead(204).end();
      },
    });
    app = await boot();
    const transport = app.get(WebhookTransport);
    const limits = { timeoutMs: 5000, connectTimeoutMs: 1000, maxResponseBytes: 1000 };
    const request = { method: 'POST', url: `${receiver.url}/x`, headers: { 'content-type': 'application/json' }, body: '{}' };

    const inFlight = transport.send(request, limits).catch((error: unknown) => error);
    await receiver.waitForRequests(1);
    // The thread is private; ending it is how a crash of the thread looks from here.
    await (transport as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const error = await inFlight;
    expect(error).toBeInstanceOf(WebhookTransportError);
    expect((error as WebhookTransportError).code).toBe('unknown');
    expect((error as WebhookTransportError).message).toMatch(/sending thread stopped/);

    hang = false;
    const response = await transport.send(request, limits);
    expect(response.statusCode).toBe(204);
    expect(receiver.requests).toHaveLength(2);
  });

  it('shutdown ends the thread: a request still in flight rejects as "aborted" (the attempt stays pending), not as a failure', async () => {
    receiver = await TestReceiver.start({ responder: () => undefined });
    app = await boot({ shutdownTimeoutMs: 300 });
    const transport = app.get(WebhookTransport);
    const inFlight = transport
      .send({ method: 'POST', url: `${receiver.url}/hang`, headers: {}, body: '{}' }, { timeoutMs: 5000, connectTimeoutMs: 1000, maxResponseBytes: 1000 })
      .catch((error: unknown) => error);
    await receiver.waitForRequests(1);

    await app.close();
    app = undefined;
    const error = await inFlight;
    expect(error).toBeInstanceOf(WebhookTransportError);
    expect((error as WebhookTransportError).code).toBe('aborted');
    expect((transport as unknown as { worker: unknown }).worker).toBeNull();
    await expect(transport.send({ method: 'POST', url: `${receiver.url}/late`, headers: {}, body: '{}' }, { timeoutMs: 1000, connectTimeoutMs: 500, maxResponseBytes: 10 })).rejects.toMatchObject({ code: 'aborted' });
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hang']);
  });

  it('a request whose URL does not parse fails alone (protocol) and the thread keeps serving the others', async () => {
    receiver = await TestReceiver.start({ responder: (_request, res) => void res.writeHead(204).end() });
    app = await boot();
    const transport = app.get(WebhookTransport);
    const limits = { timeoutMs: 3000, connectTimeoutMs: 1000, maxResponseBytes: 1000 };
    const [bad, good] = await Promise.allSettled([
      transport.send({ method: 'POST', url: 'not a url', headers: {}, body: '{}' }, limits),
      transport.send({ method: 'POST', url: `${receiver.url}/ok`, headers: {}, body: '{}' }, limits),
    ]);
    expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'protocol' } });
    expect(good).toMatchObject({ status: 'fulfilled', value: { statusCode: 204 } });
    expect((await transport.send({ method: 'POST', url: `${receiver.url}/again`, headers: {}, body: '{}' }, limits)).statusCode).toBe(204);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/ok', '/again']);
  });

  it('a request queued in the same turn as shutdown is never sent', async () => {
    receiver = await TestReceiver.start({ responder: (_request, res) => void res.writeHead(204).end() });
    app = await boot();
    const transport = app.get(WebhookTransport);
    const late = transport
      .send({ method: 'POST', url: `${receiver.url}/late`, headers: {}, body: '{}' }, { timeoutMs: 3000, connectTimeoutMs: 1000, maxResponseBytes: 1000 })
      .catch((error: unknown) => error);
    await app.close();
    app = undefined;
    expect(await late).toMatchObject({ code: 'aborted' });
    expect((transport as unknown as { worker: unknown }).worker).toBeNull();
    expect(receiver.requests).toHaveLength(0);
  });
});
