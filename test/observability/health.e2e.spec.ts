import type { INestApplication } from '@nestjs/common';
import { Controller, Get, Module } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock, WebhookStore } from 'nest-webhooks/extensions';
import { WebhooksHealthIndicator } from 'nest-webhooks/health';
import { DATABASES } from '../support/databases.js';
import { FakeClock } from '../support/fake-clock.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, STORES, type StoreKind, storeFor } from '../support/webhooks-app.js';

const MAX_LAG_MS = 60_000;

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly webhooks: WebhooksHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.webhooks.isHealthy('webhooks', { maxOutboxLagMs: MAX_LAG_MS })]);
  }
}

@Module({ imports: [TerminusModule.forRoot({ logger: false })], providers: [WebhooksHealthIndicator], controllers: [HealthController] })
class HealthModule {}

describe('WebhooksHealthIndicator on terminus', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(kind: StoreKind, receiver: TestReceiver, retrySchedule: number[] = [3_600_000]) {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const database = await storeFor(kind);
    if (database) cleanups.push(() => database.drop());
    const app = await createWebhooksApp({
      database,
      // The poller is left to the test (a retry an hour away wakes no one).
      webhooks: { delivery: { retrySchedule, retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 60_000 } },
      overrides: [{ provide: WebhookClock, useValue: clock }],
      imports: [HealthModule],
    });
    cleanups.push(() => app.close());
    await app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] });
    return { app, clock, health: await listen(app), delivery: app.get(WebhookDeliveryManager), publisher: app.get(WebhookPublisher) };
  }

  async function receiver(responder = ok()): Promise<TestReceiver> {
    const started = await TestReceiver.start({ responder });
    cleanups.push(() => started.close());
    return started;
  }

  describe.each(STORES)('%s store', (kind) => {
    it('is up with the outbox and the last claim in its details', async () => {
      const { health, delivery, publisher, clock } = await start(kind, await receiver());
      await publisher.publish('order.created', {});
      await delivery.waitForPendingDeliveries();
      // The start-up claim runs in the background; this one makes the last claim known whatever the machine's load.
      await delivery.processDueAttempts();
      const { status, body } = await health();
      expect(status).toBe(200);
      expect(body).toMatchObject({
        status: 'ok',
        info: { webhooks: { status: 'up', pending: 0, outboxLagMs: 0, maxOutboxLagMs: MAX_LAG_MS, worker: true, queued: 0, active: 0 } },
      });
      expect(Date.parse(body.info.webhooks.lastClaimAt)).toBeLessThanOrEqual(clock.now().getTime());
    });

    it('is down with 503 while a due attempt waits past maxOutboxLagMs, and up again once it is delivered', async () => {
      const held: ServerResponse[] = [];
      const target = await receiver((_request, res) => void held.push(res));
      const { health, delivery, publisher, clock } = await start(kind, target);
      await publisher.publish('order.created', {});
      await target.waitForRequests(1);
      clock.advance(MAX_LAG_MS + 1000);
      const down = await health();
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({
        status: 'error',
        error: { webhooks: { status: 'down', pending: 1, outboxLagMs: MAX_LAG_MS + 1000, oldestPendingAgeMs: MAX_LAG_MS + 1000, active: 1 } },
      });
      expect(down.body.error.webhooks.message).toBe(`a due webhook attempt has waited ${MAX_LAG_MS + 1000} ms for a worker (maxOutboxLagMs: ${MAX_LAG_MS})`);

      held.splice(0).forEach((res) => res.writeHead(200).end());
      await delivery.waitForPendingDeliveries();
      expect(await health()).toMatchObject({ status: 200, body: { info: { webhooks: { status: 'up', pending: 0, outboxLagMs: 0 } } } });
    });

    it('does not count retries waiting for their time, but a worker that stops claiming due ones is down', async () => {
      const target = await receiver(ok(500));
      const { health, delivery, publisher, clock } = await start(kind, target);
      await publisher.publish('order.created', {});
      await delivery.waitForPendingDeliveries();
      // The retry is an hour away: pending and old, but not late.
      clock.advance(30 * 60_000);
      expect(await health()).toMatchObject({ status: 200, body: { info: { webhooks: { status: 'up', pending: 1, oldestPendingAgeMs: 30 * 60_000, outboxLagMs: 0 } } } });

      // Its time comes and nothing claims it (the poller is idle for the test): lag within bounds, but no claim for an hour.
      clock.advance(30 * 60_000 + 1000);
      const stalled = await health();
      expect(stalled.status).toBe(503);
      expect(stalled.body.error.webhooks).toMatchObject({ status: 'down', outboxLagMs: 1000, queued: 0, active: 0 });
      expect(stalled.body.error.webhooks.message).toMatch(/^webhook attempts are due but this worker last claimed \d+ ms ago \(maxClaimAgeMs: 300000\)$/);

      await delivery.processDueAttempts();
      await delivery.waitForPendingDeliveries();
      expect(target.requests).toHaveLength(2);
      const after = await health();
      expect(after).toMatchObject({ status: 200, body: { info: { webhooks: { status: 'up', pending: 0 } } } });
      expect(Date.parse(after.body.info.webhooks.lastClaimAt)).toBe(clock.now().getTime());
    });
  });

  it('on a process that only publishes, checks the lag only when given maxOutboxLagMs: its readiness is the store answering', async () => {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createWebhooksApp({ webhooks: { delivery: { worker: false } }, overrides: [{ provide: WebhookClock, useValue: clock }], imports: [HealthModule] });
    cleanups.push(() => app.close());
    const target = await receiver();
    await app.get(WebhookSubscriptionManager).create({ url: target.url, events: ['order.*'] });
    await app.get(WebhookPublisher).publish('order.created', {});
    // No worker anywhere: the attempt waits far past the default 5 minutes.
    clock.advance(60 * 60_000);
    const indicator = app.get(WebhooksHealthIndicator);
    expect(await indicator.isHealthy('webhooks')).toEqual({
      webhooks: expect.objectContaining({ status: 'up', pending: 1, outboxLagMs: 60 * 60_000, maxOutboxLagMs: null, worker: false }),
    });
    // Given explicitly (the controller here asks for 60 s), the lag counts wherever the check runs.
    const { status, body } = await (await listen(app))();
    expect(status).toBe(503);
    expect(body.error.webhooks).toMatchObject({ status: 'down', worker: false, maxOutboxLagMs: MAX_LAG_MS });
    expect(target.requests).toHaveLength(0);
  });

  it('shares one store read among probes that arrive together', async () => {
    const { app } = await start('memory', await receiver());
    const store = app.get(WebhookStore);
    const read = vi.spyOn(store, 'outboxStats');
    const indicator = app.get(WebhooksHealthIndicator);
    const results = await Promise.all([1, 2, 3].map(() => indicator.isHealthy('webhooks')));
    expect(results.map((r) => r.webhooks.status)).toEqual(['up', 'up', 'up']);
    expect(read).toHaveBeenCalledTimes(1);
    await indicator.isHealthy('webhooks');
    expect(read).toHaveBeenCalledTimes(2);
  });

  it('is down when the store hangs, and up once it answers again', async () => {
    const { app } = await start('memory', await receiver());
    const hung = vi.spyOn(app.get(WebhookStore), 'outboxStats').mockImplementation(() => new Promise(() => {}));
    const indicator = app.get(WebhooksHealthIndicator);
    expect(await indicator.isHealthy('webhooks', { timeoutMs: 100 })).toEqual({
      webhooks: expect.objectContaining({ status: 'down', message: 'the webhook store does not answer: NoAnswerError: no answer within 100 ms' }),
    });
    hung.mockRestore();
    expect((await indicator.isHealthy('webhooks', { timeoutMs: 100 })).webhooks.status).toBe('up');
  });

  it.each(DATABASES)('is down with 503 when the store cannot be reached (%s)', async (kind) => {
    const { app, health } = await start(kind, await receiver());
    // The store's connections and the application's, closed under it.
    await app.get(WebhookStore).close();
    await app.get(DataSource).destroy();
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body.error.webhooks).toMatchObject({ status: 'down', worker: true });
    expect(body.error.webhooks.message).toMatch(/^the webhook store does not answer: /);
  });
});

/** Starts the app's HTTP listener; returns a GET /health. */
async function listen(app: INestApplication): Promise<() => Promise<{ status: number; body: any }>> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    return { status: response.status, body: await response.json() };
  };
}
