import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { createExampleApp } from './app.factory.js';
import { loadAppConfig } from './config/app-config.js';

/**
 * `npm run demo`: the example app plus a local receiver that verifies and prints each delivery. The demo
 * allows http:// and 127.0.0.1 as destinations (off by default) so it needs no certificate.
 */
async function demo(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-demo-'));
  let secret = '';
  let resolveDelivered: () => void = () => undefined;
  const delivered = new Promise<void>((resolve) => (resolveDelivered = resolve));

  const receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      try {
        const event = new Webhook(secret).verify(body, headers) as { type: string; data: unknown };
        console.log(`receiver: verified ${event.type} (webhook-id ${headers['webhook-id']})`);
        console.log(`receiver: data ${JSON.stringify(event.data)}`);
        res.writeHead(200).end();
        resolveDelivered();
      } catch (error) {
        console.log(`receiver: REJECTED a delivery: ${(error as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;

  const apiKey = 'demo-key-0123456789abcdef';
  const config = loadAppConfig({
    PORT: '0',
    DATABASE_URL: `sqlite:${join(dir, 'demo.sqlite')}`,
    WEBHOOKS_API_KEYS: `demo:${apiKey}`,
    WEBHOOKS_ALLOW_HTTP: 'true',
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
  });
  const { app } = await createExampleApp(config, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  console.log(`app:      ${base}  (API docs at ${base}/docs)`);
  console.log(`receiver: ${receiverUrl}`);
  const subscription = await call('POST', '/webhooks/subscriptions', { url: receiverUrl, events: ['order.*'] });
  secret = subscription.body.secret;
  console.log(`POST /webhooks/subscriptions → ${subscription.status}, id ${subscription.body.id}, secret ${secret.slice(0, 12)}… (shown once)`);
  const order = await call('POST', '/orders', { item: 'book', quantity: 2 });
  console.log(`POST /orders → ${order.status}, order ${order.body.id}`);
  await Promise.race([delivered, new Promise((_, reject) => setTimeout(() => reject(new Error('no delivery within 10 s')), 10_000))]);
  await new Promise((resolve) => setTimeout(resolve, 100));
  const attempts = await call('GET', `/webhooks/subscriptions/${subscription.body.id}/attempts`);
  for (const attempt of attempts.body.data as Array<Record<string, unknown>>) {
    console.log(`GET /webhooks/subscriptions/:id/attempts → ${attempt.eventName}: ${attempt.status}, ${attempt.message}`);
  }
  await app.close();
  receiver.close();
  rmSync(dir, { recursive: true, force: true });
}

demo().catch((error: unknown) => {
  console.error(`demo failed: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
