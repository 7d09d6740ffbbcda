import type { INestApplication } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock } from 'nest-webhooks/extensions';
import { WebhooksMetricsModule } from 'nest-webhooks/metrics';
import { FakeClock } from '../support/fake-clock.js';
import { parsePrometheusText, sumOf } from '../support/prometheus.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

describe.each(STORES)('Prometheus metrics of the deliveries, scraped over HTTP (%s)', (kind) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('count tries, resolutions, latencies, deactivations, the outbox and requests in flight as the receiver saw them', async () => {
    const held: ServerResponse[] = [];
    const seen = new Set<string>();
    const receiver = await TestReceiver.start({
      responder: (request, res, req) => {
        if (request.path === '/held') return void held.push(res);
        const status = { '/ok': 200, '/bad': 400, '/gone': 410 }[request.path];
        if (status) return ok(status)(request, res, req);
        // /flaky: every event fails its first try, then succeeds.
        const id = request.headers['webhook-id']!;
        ok(seen.has(id) ? 200 : 500)(request, res, req);
        seen.add(id);
      },
    });
    cleanups.push(() => receiver.close());
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const database = await storeFor(kind);
    if (database) cleanups.push(() => database.drop());
    const app = await createWebhooksApp({
      database,
      webhooks: { delivery: { retrySchedule: [1000], retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 60_000 } },
      overrides: [{ provide: WebhookClock, useValue: clock }],
      imports: [WebhooksMetricsModule.forRoot({ path: '/metrics' }) as never],
    });
    cleanups.push(() => app.close());
    const scrape = await listen(app);
    const subscriptions = app.get(WebhookSubscriptionManager);
    const publisher = app.get(WebhookPublisher);
    const delivery = app.get(WebhookDeliveryManager);
    for (const name of ['ok', 'flaky', 'bad', 'gone', 'held']) await subscriptions.create({ url: `${receiver.url}/${name}`, events: [`${name}.*`] });
    const { subscription: manual } = await subscriptions.create({ url: `${receiver.url}/ok`, events: ['manual.*'] });
    await subscriptions.deactivate(manual.id);

    for (const [event, count] of [['ok.created', 3], ['flaky.created', 2], ['bad.created', 1], ['gone.created', 1]] as const) {
      for (let i = 0; i < count; i++) await publisher.publish(event, { i });
    }
    await delivery.waitForPendingDeliveries();
    // The retries' time comes: the flaky events succeed, the bad one fails for good.
    clock.advance(1000);
    await delivery.processDueAttempts();
    await delivery.waitForPendingDeliveries();

    expect(receiver.requests).toHaveLength(10);
    let samples = await scrape();
    expect(sumOf(samples, 'webhooks_tries_total')).toBe(receiver.requests.length);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'successful', status_class: '2xx', error_code: 'none' })).toBe(5);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'retrying', status_class: '5xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'retrying', status_class: '4xx' })).toBe(1);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'failed', status_class: '4xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_attempts_resolved_total', { status: 'successful' })).toBe(5);
    expect(sumOf(samples, 'webhooks_attempts_resolved_total', { status: 'failed' })).toBe(2);

    // Every request the receiver got is one observation; the sum is the tries' recorded durations.
    const attempts = await delivery.searchAttempts({});
    const elapsed = attempts.flatMap((a) => a.history).reduce((total, t) => total + t.elapsedMs, 0) / 1000;
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count')).toBe(receiver.requests.length);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count', { status_class: '5xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_sum')).toBeCloseTo(elapsed, 6);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_bucket', { le: '+Inf' })).toBe(receiver.requests.length);
    // Five deliveries: three at once, two a retry (one second of the clock) later.
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_count')).toBe(5);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_sum')).toBeCloseTo(2, 6);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_bucket', { le: '0.05' })).toBe(3);

    expect(sumOf(samples, 'webhooks_subscription_deactivations_total', { reason: 'gone' })).toBe(1);
    expect(sumOf(samples, 'webhooks_subscription_deactivations_total', { reason: 'manual' })).toBe(1);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'active' })).toBe(3);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'failing' })).toBe(1);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'inactive' })).toBe(2);
    expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(0);
    expect(sumOf(samples, 'webhooks_outbox_lag_seconds')).toBe(0);
    expect(sumOf(samples, 'webhooks_requests_in_flight')).toBe(0);
    expect(sumOf(samples, 'webhooks_store_up')).toBe(1);

    // A request the receiver holds: in flight, pending, and due for as long as the clock moves on.
    await publisher.publish('held.created', {});
    await receiver.waitForRequests(11);
    clock.advance(5000);
    samples = await scrape();
    expect(sumOf(samples, 'webhooks_requests_in_flight')).toBe(1);
    expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(1);
    expect(sumOf(samples, 'webhooks_outbox_oldest_pending_age_seconds')).toBe(5);
    expect(sumOf(samples, 'webhooks_outbox_lag_seconds')).toBe(5);
    held.splice(0).forEach((res) => res.writeHead(204).end());
    await delivery.waitForPendingDeliveries();
    samples = await scrape();
    expect(sumOf(samples, 'webhooks_requests_in_flight')).toBe(0);
    expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(0);
    expect(sumOf(samples, 'webhooks_outbox_oldest_pending_age_seconds')).toBe(0);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count')).toBe(receiver.requests.length);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_count')).toBe(6);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_sum')).toBeCloseTo(7, 6);
  });
});

/** Starts the app's HTTP listener; returns a scrape of its /metrics. */
async function listen(app: INestApplication): Promise<() => Promise<ReturnType<typeof parsePrometheusText>>> {
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return async () => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await response.text());
  };
}
