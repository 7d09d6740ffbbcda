import { createServer, type Server, type Socket, connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebhookAttemptResolvedEvent, WebhookDeliveryManager, WebhookEvents, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * "Receiver down, then up" (issue: durable at-least-once delivery). With a compressed schedule and no jitter
 * the tries of every attempt fall at fixed offsets from publication: 0, 100, 300, 700, 1500, 3100 ms. Time is
 * a FakeClock moved in 50 ms steps; after each step the due attempts are claimed and their tries recorded,
 * so the number of requests at every instant is exactly what the schedule allows: no hot loop, no early try,
 * no try skipped. When the receiver comes back, every event arrives, once. Runs on every store: memory, and the
 * TypeORM store on SQLite and on PostgreSQL.
 */

const SCHEDULE = [100, 200, 400, 800, 1600];
/** Offsets of the tries from publication (first try at 0). */
const OFFSETS = SCHEDULE.reduce<number[]>((acc, delay) => [...acc, acc.at(-1)! + delay], [0]);
const EVENTS = 20;
const STEP = 50;
/** The receiver comes back between the 4th try (700 ms) and the 5th (1500 ms). */
const BACK_AT = 1_000;

const triesDueBy = (t: number) => OFFSETS.filter((offset) => offset <= t).length;

/** A TCP port that can be closed (ECONNREFUSED) and opened again, forwarding to a receiver. */
class SwitchablePort {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(readonly port: number) {}

  /** Reserves a free port and leaves it closed. */
  static async reserve(): Promise<SwitchablePort> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    return new SwitchablePort(port);
  }

  /** Starts accepting on the port and forwards each connection to `targetPort` (TLS passes through). */
  async open(targetPort: number): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.server = server;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe.each(STORES)('receiver down, then up: tries follow the schedule exactly, then everything arrives (%s)', (kind) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function boot(): Promise<{ app: INestApplication; clock: FakeClock; delivery: WebhookDeliveryManager; step: (ms: number) => Promise<void> }> {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const database = await storeFor(kind);
    if (database) cleanups.push(() => database.drop());
    const app = await createWebhooksApp({
      database,
      webhooks: {
        // 503 would otherwise impose the 60 s overload delay; the poller is left to the test.
        delivery: { retrySchedule: SCHEDULE, retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 60_000 },
      },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
    cleanups.push(() => app.close());
    const delivery = app.get(WebhookDeliveryManager);
    return {
      app,
      clock,
      delivery,
      step: async (ms) => {
        clock.advance(ms);
        await delivery.processDueAttempts();
        await delivery.waitForPendingDeliveries(10_000);
      },
    };
  }

  async function publishAll(app: INestApplication): Promise<void> {
    const publisher = app.get(WebhookPublisher);
    for (let seq = 1; seq <= EVENTS; seq++) await publisher.publish('outage.event', { seq });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries(10_000);
  }

  const seqOf = (body: string) => (JSON.parse(body) as { data: { seq: number } }).data.seq;
  const allSeqs = Array.from({ length: EVENTS }, (_, i) => i + 1);

  it('a receiver answering 503: requests while down = events × tries the schedule allows, at every step; after it recovers every event arrives once', async () => {
    let up = false;
    const statuses: number[] = [];
    const receiver = await TestReceiver.start({
      responder: (request, res, req) => {
        statuses.push(up ? 200 : 503);
        ok(up ? 200 : 503)(request, res, req);
      },
    });
    cleanups.push(() => receiver.close());
    const { app, clock, delivery, step } = await boot();
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription } = await subscriptions.create({ url: `${receiver.url}/outage`, events: ['outage.*'] });
    const announced: string[] = [];
    app.get(EventEmitter2).on(WebhookEvents.AttemptSucceeded, (event: WebhookAttemptResolvedEvent) => announced.push(event.attempt.id));

    const t0 = clock.now().getTime();
    await publishAll(app);
    expect(receiver.requests).toHaveLength(EVENTS);
    // The endpoint's health dropped with the first failed tries.
    expect((await subscriptions.get(subscription.id))!.failingSince).toEqual(new Date(t0));

    // No hot loop in real time either: with the clock standing still, nothing more is sent.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(EVENTS);

    const counts: Array<[number, number]> = [];
    const expected: Array<[number, number]> = [];
    for (let t = STEP; t <= OFFSETS.at(-1)! + 2 * STEP; t += STEP) {
      if (t === BACK_AT) up = true;
      await step(STEP);
      expect(clock.now().getTime() - t0).toBe(t);
      counts.push([t, receiver.requests.length]);
      // While down, every try is repeated; once a try succeeds the attempt is done.
      expected.push([t, EVENTS * Math.min(triesDueBy(t), triesDueBy(BACK_AT) + 1)]);
    }
    expect(counts).toEqual(expected);

    const whileDown = statuses.filter((s) => s === 503).length;
    expect(whileDown).toBe(EVENTS * triesDueBy(BACK_AT)); // 20 × 4 = 80
    expect(statuses.filter((s) => s === 200)).toHaveLength(EVENTS);

    // Every event arrived exactly once with a 200, each attempt kept one webhook-id through all its tries.
    const delivered = receiver.requests.filter((_, i) => statuses[i] === 200);
    expect(delivered.map((r) => seqOf(r.body)).sort((a, b) => a - b)).toEqual(allSeqs);
    const triesPerId = new Map<string, number>();
    for (const request of receiver.requests) triesPerId.set(request.headers['webhook-id']!, (triesPerId.get(request.headers['webhook-id']!) ?? 0) + 1);
    expect([...triesPerId.values()]).toEqual(Array(EVENTS).fill(triesDueBy(BACK_AT) + 1));

    const attempts = await delivery.listAttempts(subscription.id);
    expect(attempts).toHaveLength(EVENTS);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', tries: triesDueBy(BACK_AT) + 1, nextAttemptAt: null });
      expect(attempt.history.map((t) => t.statusCode)).toEqual([503, 503, 503, 503, 200]);
      expect(attempt.history.map((t) => t.startedAt.getTime() - t0)).toEqual(OFFSETS.slice(0, 5));
    }
    expect(new Set(attempts.map((a) => a.webhookId))).toEqual(new Set(triesPerId.keys()));
    // The recovery is fully booked: the endpoint is healthy again and every success was announced, once.
    expect((await subscriptions.get(subscription.id))!.failingSince).toBeNull();
    expect(announced.sort()).toEqual(attempts.map((a) => a.id).sort());
  });

  it('a closed port (connection refused): tries while down = events × tries the schedule allows, at every step; once the port opens every event arrives once', async () => {
    const receiver = await TestReceiver.start();
    cleanups.push(() => receiver.close());
    const port = await SwitchablePort.reserve();
    cleanups.push(() => port.close());
    const { app, clock, delivery, step } = await boot();
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `https://127.0.0.1:${port.port}/outage`, events: ['outage.*'] });
    const refusedTries = async () => {
      const attempts = await delivery.listAttempts(subscription.id);
      return attempts.reduce((n, a) => n + a.history.filter((t) => t.errorCode === 'connection-refused').length, 0);
    };
    const allTries = async () => (await delivery.listAttempts(subscription.id)).reduce((n, a) => n + a.tries, 0);

    const t0 = clock.now().getTime();
    await publishAll(app);
    expect(await refusedTries()).toBe(EVENTS);

    const counts: Array<[number, number, number]> = [];
    const expected: Array<[number, number, number]> = [];
    for (let t = STEP; t <= OFFSETS.at(-1)! + 2 * STEP; t += STEP) {
      if (t === BACK_AT) await port.open(receiver.port);
      await step(STEP);
      expect(clock.now().getTime() - t0).toBe(t);
      counts.push([t, await allTries(), receiver.requests.length]);
      const triesByNow = Math.min(triesDueBy(t), triesDueBy(BACK_AT) + 1);
      expected.push([t, EVENTS * triesByNow, triesDueBy(t) > triesDueBy(BACK_AT) ? EVENTS : 0]);
    }
    expect(counts).toEqual(expected);
    expect(await refusedTries()).toBe(EVENTS * triesDueBy(BACK_AT)); // 20 × 4 = 80 refused connections

    expect(receiver.requests.map((r) => seqOf(r.body)).sort((a, b) => a - b)).toEqual(allSeqs);
    const attempts = await delivery.listAttempts(subscription.id);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', tries: triesDueBy(BACK_AT) + 1 });
      expect(attempt.history.map((t) => t.errorCode)).toEqual(['connection-refused', 'connection-refused', 'connection-refused', 'connection-refused', null]);
    }
    expect(new Set(receiver.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set(attempts.map((a) => a.webhookId)));
  });
});
