import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookTransport } from 'nest-webhooks/extensions';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * `WebhookTransportLimits.signal` belongs to one caller: aborting it ends that caller's requests only (a custom
 * queue may pass a signal per job or per consumer). And a receiver's informational answers (103 Early Hints)
 * are not part of the response that follows them.
 */
describe.each(['undici', 'undici-thread', 'axios'] as const)('transport %s: abort signals and informational answers', (transport) => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = receiver = undefined;
  });

  it('aborting one signal ends its requests as "aborted" and leaves requests with another signal or none running', async () => {
    const held: Array<() => void> = [];
    receiver = await TestReceiver.start({ responder: (_request, res) => void held.push(() => res.writeHead(204).end()) });
    app = await createWebhooksApp({ webhooks: { delivery: { transport, timeoutMs: 5000 } } });
    const sender = app.get(WebhookTransport);
    const a = new AbortController();
    const b = new AbortController();
    const send = (path: string, signal?: AbortSignal) =>
      sender.send({ method: 'POST', url: `${receiver!.url}${path}`, headers: {}, body: '{}' }, { timeoutMs: 5000, connectTimeoutMs: 1000, maxResponseBytes: 100, signal }).then(
        (response) => response.statusCode,
        (error: { code?: string }) => error.code,
      );
    const results = [send('/a', a.signal), send('/b', b.signal), send('/none')];
    await receiver.waitForRequests(3);

    a.abort();
    const first = await results[0];
    for (const answer of held) answer();
    expect([first, await results[1], await results[2]]).toEqual(['aborted', 204, 204]);
  });

  it("headers of a 103 Early Hints answer are not recorded as the final response's headers", async () => {
    receiver = await TestReceiver.start({
      protocol: 'http',
      responder: (_request, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload', 'x-hint': 'early' });
        res.writeHead(200, { 'x-final': 'yes' }).end();
      },
    });
    app = await createWebhooksApp({ webhooks: { destinations: { allowHttp: true }, delivery: { transport } } });
    const response = await app
      .get(WebhookTransport)
      .send({ method: 'POST', url: `${receiver.url}/hints`, headers: {}, body: '{}' }, { timeoutMs: 3000, connectTimeoutMs: 1000, maxResponseBytes: 100 });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-final']).toBe('yes');
    expect(response.headers['x-hint']).toBeUndefined();
    expect(response.headers.link).toBeUndefined();
  });
});
