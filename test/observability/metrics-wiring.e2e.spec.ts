import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import type { AddressInfo } from 'node:net';
import { Test } from '@nestjs/testing';
import { register as globalRegistry, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhooksModule, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock, WebhookStore } from 'nest-webhooks/extensions';
import { SubscriptionRegistry } from '../../libs/webhooks/src/subscriptions/subscription-registry.js';
import { FakeClock } from '../support/fake-clock.js';
import { WebhookMetrics, WebhooksMetricsModule } from 'nest-webhooks/metrics';
import { parsePrometheusText, sumOf } from '../support/prometheus.js';
import { ok, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, loopbackDestinations } from '../support/webhooks-app.js';

describe('WebhooksMetricsModule in an application', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function receiver(): Promise<TestReceiver> {
    const started = await TestReceiver.start();
    cleanups.push(() => started.close());
    return started;
  }

  async function appWith(metrics: Parameters<typeof WebhooksMetricsModule.forRoot>[0]): Promise<INestApplication> {
    const app = await createWebhooksApp({ imports: [WebhooksMetricsModule.forRoot(metrics) as never] });
    cleanups.push(() => app.close());
    return app;
  }

  /** Publishes `count` events to a fresh subscription and waits until they are delivered. */
  async function deliver(app: INestApplication, url: string, count: number): Promise<void> {
    await app.get(WebhookSubscriptionManager).create({ url, events: ['order.*'] });
    for (let i = 0; i < count; i++) await app.get(WebhookPublisher).publish('order.created', { i });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
  }

  const scrape = async (app: INestApplication) => parsePrometheusText(await app.get(WebhookMetrics).metrics());

  it('two applications in one process each count their own deliveries, in registries of their own', async () => {
    const { url } = await receiver();
    const shop = await appWith({});
    const warehouse = await appWith({});
    await deliver(shop, `${url}/shop`, 2);
    await deliver(warehouse, `${url}/warehouse`, 1);

    expect(shop.get(WebhookMetrics).registry).not.toBe(warehouse.get(WebhookMetrics).registry);
    expect(sumOf(await scrape(shop), 'webhooks_tries_total', { outcome: 'successful' })).toBe(2);
    expect(sumOf(await scrape(warehouse), 'webhooks_tries_total', { outcome: 'successful' })).toBe(1);
    expect(sumOf(await scrape(shop), 'webhooks_subscriptions', { state: 'active' })).toBe(1);
    // prom-client's global registry is left alone.
    expect(globalRegistry.getMetricsAsArray().filter((m) => String((m as { name?: string }).name).startsWith('webhooks_'))).toEqual([]);
  });

  it('a shared registry takes a second application only under another prefix, and is left clean when they close', async () => {
    const registry = new Registry();
    const shop = await appWith({ registry });
    await expect(createWebhooksApp({ imports: [WebhooksMetricsModule.forRoot({ registry }) as never] })).rejects.toThrow(
      /the registry already has a metric "webhooks_tries_total"; give each application its own registry \(the default\) or its own prefix/,
    );
    const billing = await appWith({ registry, prefix: 'billing_webhooks_' });
    const { url } = await receiver();
    await deliver(billing, url, 1);
    const samples = parsePrometheusText(await registry.metrics());
    expect(sumOf(samples, 'billing_webhooks_tries_total')).toBe(1);
    expect(sumOf(samples, 'webhooks_tries_total')).toBe(0);
    expect(shop.get(WebhookMetrics).registry).toBe(registry);

    await shop.close();
    await billing.close();
    expect(registry.getMetricsAsArray()).toEqual([]);
  });

  it('labels deliveries with the event name only when asked to', async () => {
    const { url } = await receiver();
    const app = await appWith({ eventLabel: true });
    await deliver(app, url, 1);
    const samples = await scrape(app);
    expect(sumOf(samples, 'webhooks_tries_total', { event: 'order.created', outcome: 'successful' })).toBe(1);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_count', { event: 'order.created' })).toBe(1);
    const plain = await appWith({});
    await deliver(plain, url, 1);
    const labelSets = (await scrape(plain)).filter((s) => s.name === 'webhooks_tries_total').map((s) => Object.keys(s.labels).sort().join());
    expect([...new Set(labelSets)]).toEqual(['error_code,outcome,status_class']);
  });

  it('finds the services of a WebhooksModule that is not global, imported beside it', async () => {
    const { url } = await receiver();
    @Module({
      imports: [
        EventEmitterModule.forRoot({ wildcard: true }),
        WebhooksModule.forRoot({ destinations: loopbackDestinations(), isGlobal: false }),
        WebhooksMetricsModule.forRoot({ isGlobal: false }),
      ],
    })
    class SiblingsModule {}
    const app = (await Test.createTestingModule({ imports: [SiblingsModule] }).compile()).createNestApplication({ logger: false });
    cleanups.push(() => app.close());
    await app.init();
    await deliver(app, url, 1);
    expect(sumOf(await scrape(app), 'webhooks_tries_total', { outcome: 'successful', status_class: '2xx' })).toBe(1);
  });

  it('takes its options from forRootAsync, and serves them at its path with the Prometheus content type', async () => {
    const app = await createWebhooksApp({
      imports: [WebhooksMetricsModule.forRootAsync({ useFactory: async () => ({ prefix: 'shop_webhooks_' }), path: '/internal/metrics' }) as never],
    });
    cleanups.push(() => app.close());
    await app.listen(0, '127.0.0.1');
    const response = await fetch(`http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/internal/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const samples = parsePrometheusText(await response.text());
    expect(sumOf(samples, 'shop_webhooks_store_up')).toBe(1);
    expect(samples.some((s) => s.name.startsWith('webhooks_'))).toBe(false);
  });

  it('answers a scrape while the store hangs (store_up 0, the outbox gauges as last read), and reads the store again once it answers', async () => {
    const { url } = await receiver();
    const app = await appWith({ scrapeTimeoutMs: 200 });
    await deliver(app, url, 1);
    expect(sumOf(await scrape(app), 'webhooks_store_up')).toBe(1);

    // The store stops answering (a pool exhausted, a partition): the outbox query neither resolves nor rejects.
    const hung = vi.spyOn(app.get(WebhookStore), 'outboxStats').mockImplementation(() => new Promise(() => {}));
    await app.get(WebhookPublisher).publish('order.created', { late: true });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    for (const _ of [1, 2]) {
      const samples = await scrape(app);
      expect(sumOf(samples, 'webhooks_store_up')).toBe(0);
      expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(0);
      expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'successful' })).toBe(2);
    }
    // Each scrape asked again instead of waiting on the hung query.
    expect(hung).toHaveBeenCalledTimes(2);

    hung.mockRestore();
    const recovered = await scrape(app);
    expect(sumOf(recovered, 'webhooks_store_up')).toBe(1);
    expect(sumOf(recovered, 'webhooks_subscriptions', { state: 'active' })).toBe(1);
  });

  it('counts subscriptions by state with one grouped store query per scrape, static ones from memory', async () => {
    const app = await createWebhooksApp({
      webhooks: { subscriptions: [{ url: 'https://static.example.com/hook', events: ['order.*'] }] },
      imports: [WebhooksMetricsModule.forRoot({}) as never],
    });
    cleanups.push(() => app.close());
    const subscriptions = app.get(WebhookSubscriptionManager);
    await subscriptions.create({ url: 'https://a.example.com/hook', events: ['order.*'] });
    const { subscription } = await subscriptions.create({ url: 'https://b.example.com/hook', events: ['order.*'] });
    await subscriptions.deactivate(subscription.id);
    const store = app.get(WebhookStore);
    const listed = vi.spyOn(store, 'listSubscriptions');
    const counted = vi.spyOn(store, 'countSubscriptions');
    const samples = await scrape(app);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'active' })).toBe(2);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'inactive' })).toBe(1);
    expect(counted).toHaveBeenCalledTimes(1);
    expect(listed).not.toHaveBeenCalled();
  });

  it('counts attempts cancelled by a deactivation or a delete apart, and resolves the ones a worker cancels', async () => {
    const failing = await TestReceiver.start({ responder: ok(500) });
    cleanups.push(() => failing.close());
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createWebhooksApp({
      webhooks: { delivery: { retrySchedule: [1000, 1000], retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 60_000 } },
      overrides: [{ provide: WebhookClock, useValue: clock }],
      imports: [WebhooksMetricsModule.forRoot({}) as never],
    });
    cleanups.push(() => app.close());
    const subscriptions = app.get(WebhookSubscriptionManager);
    const delivery = app.get(WebhookDeliveryManager);
    const [a, b, c] = await Promise.all(['/a', '/b', '/c'].map(async (path) => (await subscriptions.create({ url: failing.url + path, events: ['order.*'] })).subscription));
    await app.get(WebhookPublisher).publish('order.created', { id: 1 });
    await delivery.waitForPendingDeliveries();
    // Each has a retry pending. a is deactivated and b deleted: their retries are cancelled without a try.
    await subscriptions.deactivate(a!.id);
    await subscriptions.delete(b!.id);
    // c goes inactive where the worker sees it but its retry stays pending (as when another process deactivated it
    // while this one held the attempt): the worker's try cancels it.
    const store = app.get(WebhookStore);
    app.get(SubscriptionRegistry).applyOwn((await store.updateSubscription(c!.id, { active: false }))!);
    clock.advance(1000);
    await delivery.processDueAttempts();
    await delivery.waitForPendingDeliveries();

    const samples = await scrape(app);
    expect(sumOf(samples, 'webhooks_attempts_cancelled_total', { reason: 'manual' })).toBe(1);
    expect(sumOf(samples, 'webhooks_attempts_cancelled_total', { reason: 'deleted' })).toBe(1);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'failed', error_code: 'cancelled' })).toBe(1);
    expect(sumOf(samples, 'webhooks_attempts_resolved_total', { status: 'failed' })).toBe(1);
    expect(failing.requests).toHaveLength(3);
    expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(0);
  });

  it('has the series alerts divide by at 0 before any delivery (without the event label), and latency buckets up to 2 days', async () => {
    const samples = await scrape(await appWith({}));
    const series = (name: string) => samples.filter((s) => s.name === name).map((s): Record<string, string | number> => ({ ...s.labels, value: s.value }));
    expect(series('webhooks_attempts_resolved_total')).toEqual([
      { status: 'successful', value: 0 },
      { status: 'failed', value: 0 },
    ]);
    expect(series('webhooks_tries_total').map((s) => s.outcome)).toEqual(['successful', 'retrying', 'failed']);
    expect(series('webhooks_tries_total').every((s) => s.value === 0)).toBe(true);
    expect(samples.filter((s) => s.name === 'webhooks_attempts_resolved_total' || s.name === 'webhooks_tries_total').length).toBe(5);
    // With the event label the series are the events', known only as they come.
    expect((await scrape(await appWith({ eventLabel: true }))).filter((s) => s.name === 'webhooks_tries_total')).toEqual([]);

    const { url } = await receiver();
    const app = await appWith({});
    await deliver(app, url, 1);
    const buckets = (await scrape(app)).filter((s) => s.name === 'webhooks_delivery_latency_seconds_bucket').map((s) => s.labels.le);
    expect(buckets.slice(-4)).toEqual(['86400', '129600', '172800', '+Inf']);
  });

  it('times only tries that sent a request: one refused before sending counts as a try, not in the duration histogram', async () => {
    // Static subscriptions are not checked when declared: the try refuses the private address before any request.
    const app = await createWebhooksApp({
      webhooks: { subscriptions: [{ url: 'https://10.1.2.3/hook', events: ['order.*'], secret: 'whsec_' + Buffer.alloc(32, 7).toString('base64') }] },
      imports: [WebhooksMetricsModule.forRoot({}) as never],
    });
    cleanups.push(() => app.close());
    await app.get(WebhookPublisher).publish('order.created', {});
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const samples = await scrape(app);
    expect(sumOf(samples, 'webhooks_tries_total', { error_code: 'blocked-address', status_class: 'none' })).toBe(1);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count')).toBe(0);
  });

  it('says what is missing without WebhooksModule, and refuses a bad prefix or path', async () => {
    const alone = (await Test.createTestingModule({ imports: [WebhooksMetricsModule.forRoot({})] }).compile()).createNestApplication({ logger: false });
    await expect(alone.init()).rejects.toThrow(/WebhooksMetricsModule needs WebhooksModule\.forRoot\(\.\.\.\) in the same application/);
    await expect(createWebhooksApp({ imports: [WebhooksMetricsModule.forRoot({ prefix: 'web-hooks' }) as never] })).rejects.toThrow(
      /prefix "web-hooks" is not a valid start of a Prometheus metric name/,
    );
    await expect(createWebhooksApp({ imports: [WebhooksMetricsModule.forRoot({ scrapeTimeoutMs: 0 }) as never] })).rejects.toThrow(
      /scrapeTimeoutMs must be a positive number of milliseconds, not 0/,
    );
    expect(() => WebhooksMetricsModule.forRoot({ path: 'metrics?x=1' })).toThrow(/path "metrics\?x=1" is not a route path/);
  });
});
