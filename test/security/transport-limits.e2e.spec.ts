import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import net, { type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebhookAttempt, WebhookDeliveryManager, WebhookMessages, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { type Responder, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * Issue "Safe by default" — a receiver cannot hold a delivery (or the application's shutdown) hostage
 * (reliability-security.md §B5 #18, §C5 "Response size" and "Timeouts"). Every scenario ends with a recorded
 * try, the receiver's connection is closed by the sender, and `app.close()` completes afterwards.
 *
 * Deadlines in these tests are generous upper bounds ("it completed"), never timing assertions.
 */

const EVENT = 'limits.probe';
const TIMEOUT_MS = 500;
const MAX_STORED = 1000;
const GENEROUS_MS = 10_000;

/** Rejects if `promise` has not settled after `ms` (so a hang fails the test instead of the whole run). */
function completes<T>(promise: Promise<T>, what: string, ms = GENEROUS_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not complete within ${ms} ms`)), ms);
    }),
  ]);
}

/** A one-shot signal the receiver raises when the sender drops the connection. */
function signal(): { promise: Promise<void>; raise: () => void; raised: () => boolean } {
  let raise!: () => void;
  let raised = false;
  const promise = new Promise<void>((resolve) => (raise = () => ((raised = true), resolve())));
  return { promise, raise: () => raise(), raised: () => raised };
}

describe('transport limits: every hostile receiver ends in a recorded try within the deadline', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  const cleanups: Array<() => unknown> = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await receiver?.close();
    receiver = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function boot(delivery: WebhooksModuleOptions['delivery'] = {}) {
    app = await createWebhooksApp({
      webhooks: {
        delivery: { retrySchedule: [], timeoutMs: TIMEOUT_MS, connectTimeoutMs: 5_000, maxStoredResponseBytes: MAX_STORED, shutdownTimeoutMs: 2_000, ...delivery },
      },
    });
    return app;
  }

  async function deliverTo(url: string): Promise<WebhookAttempt> {
    const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url, events: [EVENT] });
    app!.get(EventEmitter2).emit(EVENT, { n: 1 });
    await completes(app!.get(WebhookDeliveryManager).waitForPendingDeliveries(GENEROUS_MS), 'the delivery');
    const attempts = await app!.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempts).toHaveLength(1);
    return attempts[0]!;
  }

  async function closeApp(): Promise<void> {
    await completes(app!.close(), 'app.close()');
    app = undefined;
  }

  it('a receiver that accepts and never answers → timeout; the sender hangs up; close() is not held up', async () => {
    const hungUp = signal();
    const responder: Responder = (_request, res) => {
      res.on('close', hungUp.raise); // never answers
    };
    receiver = await TestReceiver.start({ responder });
    await boot();

    const attempt = await deliverTo(`${receiver.url}/silent`);
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, response: null, tries: 1 });
    expect(attempt.history.map((t) => [t.statusCode, t.errorCode])).toEqual([[null, 'timeout']]);
    expect(receiver.requests).toHaveLength(1);
    await completes(hungUp.promise, 'the sender closing the connection');
    await closeApp();
  });

  it('a receiver that sends headers, then drips the body one byte every 100 ms forever → timeout (idle timeouts never fire)', async () => {
    const hungUp = signal();
    let dripped = 0;
    const responder: Responder = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.flushHeaders();
      const drip = setInterval(() => {
        res.write('.');
        dripped++;
      }, 100);
      res.on('close', () => {
        clearInterval(drip);
        hungUp.raise();
      });
    };
    receiver = await TestReceiver.start({ responder });
    await boot();

    const attempt = await deliverTo(`${receiver.url}/drip`);
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, tries: 1 });
    expect(attempt.history.map((t) => t.errorCode)).toEqual(['timeout']);
    await completes(hungUp.promise, 'the sender closing the dripping connection');
    expect(dripped).toBeGreaterThan(0); // the body really was trickling when the deadline hit
    await closeApp();
  });

  it.each([
    [200, 'successful'],
    [503, 'failed'],
  ] as const)('an endless %i body stops at maxStoredResponseBytes: truncated, recorded, and the socket is destroyed', async (status, outcome) => {
    const hungUp = signal();
    let written = 0;
    const responder: Responder = (_request, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!res.destroyed && !hungUp.raised()) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.on('close', hungUp.raise);
      pump();
    };
    receiver = await TestReceiver.start({ responder });
    await boot();

    const attempt = await deliverTo(`${receiver.url}/endless`);
    expect(attempt).toMatchObject({ status: outcome, tries: 1 });
    expect(attempt.history.map((t) => t.statusCode)).toEqual([status]);
    expect(attempt.response).toMatchObject({ statusCode: status, truncated: true });
    expect(Buffer.byteLength(attempt.response!.body)).toBe(MAX_STORED);
    expect(attempt.response!.body).toBe('x'.repeat(MAX_STORED));
    // The sender destroyed the connection instead of leaving it stalled (back-pressured) in the pool.
    await completes(hungUp.promise, 'the sender destroying the endless connection');
    expect(written).toBeGreaterThan(MAX_STORED);
    await closeApp();
  });

  it('a server that sends a status line, then drips header bytes forever → timeout; the sender hangs up', async () => {
    const sockets = new Set<Socket>();
    let hungUp = 0;
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        const drip = setInterval(() => socket.write('X'), 100);
        socket.on('close', () => {
          clearInterval(drip);
          sockets.delete(socket);
          hungUp++;
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    );
    app = await createWebhooksApp({
      webhooks: {
        destinations: { allowHttp: true },
        delivery: { retrySchedule: [], timeoutMs: TIMEOUT_MS, shutdownTimeoutMs: 2_000 },
      },
    });
    const attempt = await deliverTo(`http://127.0.0.1:${(server.address() as AddressInfo).port}/header-drip`);
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, response: null, tries: 1 });
    expect(attempt.history.map((t) => t.errorCode)).toEqual(['timeout']);
    await completes(
      (async () => {
        while (hungUp < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      })(),
      'the sender closing the header-dripping connection',
    );
    await closeApp();
  });

  it('oversized response headers (> 16 KB) → protocol error, recorded', async () => {
    const responder: Responder = (_request, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-huge': 'h'.repeat(20 * 1024) }).end('ok');
    };
    receiver = await TestReceiver.start({ responder });
    await boot();

    const attempt = await deliverTo(`${receiver.url}/huge-headers`);
    expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, response: null, tries: 1 });
    expect(attempt.history.map((t) => [t.statusCode, t.errorCode])).toEqual([[null, 'protocol']]);
    await closeApp();
  });

  it('many response headers that together exceed 16 KB → protocol error, recorded', async () => {
    const responder: Responder = (_request, res) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      for (let i = 0; i < 200; i++) headers[`x-h-${i}`] = 'v'.repeat(100);
      res.writeHead(200, headers).end('ok');
    };
    receiver = await TestReceiver.start({ responder });
    await boot();
    const attempt = await deliverTo(`${receiver.url}/many-headers`);
    expect(attempt).toMatchObject({ status: 'failed', tries: 1 });
    expect(attempt.history.map((t) => t.errorCode)).toEqual(['protocol']);
    await closeApp();
  });

  describe('a TCP server that accepts and says nothing during TLS set-up', () => {
    async function silentTcpServer(): Promise<{ port: number; sockets: Set<Socket>; closed: () => number }> {
      const sockets = new Set<Socket>();
      let closed = 0;
      const server = net.createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          closed++;
        });
        // Reads the ClientHello and never answers it.
        socket.resume();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
          }),
      );
      return { port: (server.address() as AddressInfo).port, sockets, closed: () => closed };
    }

    it('connect/TLS phase silent → connect-timeout (connectTimeoutMs small, total deadline larger); the socket is closed', async () => {
      const silent = await silentTcpServer();
      await boot({ connectTimeoutMs: 200, timeoutMs: 5_000 });
      const attempt = await deliverTo(`https://127.0.0.1:${silent.port}/tls`);
      expect(attempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError, response: null, tries: 1 });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['connect-timeout']);
      await completes(
        (async () => {
          while (silent.closed() < 1) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        'the sender closing the TLS socket',
      );
      await closeApp();
    });

    it('connect/TLS phase silent with the default connect deadline above the total deadline → the total deadline still ends it', async () => {
      const silent = await silentTcpServer();
      await boot({ timeoutMs: TIMEOUT_MS });
      const attempt = await deliverTo(`https://127.0.0.1:${silent.port}/tls`);
      expect(attempt).toMatchObject({ status: 'failed', tries: 1 });
      expect(['timeout', 'connect-timeout']).toContain(attempt.history[0]!.errorCode);
      await closeApp();
    });
  });

  it('close() during a hanging request is not held up beyond the shutdown bound, and nothing is lost', async () => {
    const arrived = signal();
    const responder: Responder = () => arrived.raise(); // never answers
    receiver = await TestReceiver.start({ responder });
    await boot({ timeoutMs: 30_000, shutdownTimeoutMs: 300 });
    const { subscription } = await app!.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hang`, events: [EVENT] });
    app!.get(EventEmitter2).emit(EVENT, { n: 1 });
    await completes(arrived.promise, 'the request reaching the receiver');
    const delivery = app!.get(WebhookDeliveryManager);
    await closeApp();
    // The try was aborted by the shutdown, not recorded as a failure: it stays pending for the next start.
    const [attempt] = await delivery.listAttempts(subscription.id);
    expect(attempt).toMatchObject({ status: 'pending', tries: 0 });
  });
});
