import type { ServerResponse } from 'node:http';
import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { WebhookStore } from 'nest-webhooks/extensions';
import { DATABASES } from '../support/databases.js';
import { eventually, type RunningExampleApp, startExampleApp } from '../support/example-app.js';
import { parsePrometheusText, sumOf } from '../support/prometheus.js';
import { ok, type Responder, TestReceiver } from '../support/receiver.js';

const METRICS_TOKEN = 'metrics-token-0123456789';

describe('example app: /metrics and /health', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function start(...args: Parameters<typeof startExampleApp>): Promise<RunningExampleApp> {
    const api = await startExampleApp(...args);
    cleanups.push(() => api.close());
    return api;
  }

  async function receiver(responder?: Responder): Promise<TestReceiver> {
    const started = await TestReceiver.start(responder ? { responder } : {});
    cleanups.push(() => started.close());
    return started;
  }

  const metrics = async (api: RunningExampleApp, token: string | null) => {
    const response = await fetch(`${api.baseUrl}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
    return { status: response.status, type: response.headers.get('content-type'), text: await response.text() };
  };

  it.each(DATABASES)('/metrics counts what a real receiver saw: successes, a 5xx then success, a 4xx until exhausted (%s)', async (database) => {
    const seen = new Set<string>();
    const target = await receiver((request, res, req) => {
      if (request.path === '/flaky') {
        const id = request.headers['webhook-id']!;
        ok(seen.has(id) ? 200 : 500)(request, res, req);
        return void seen.add(id);
      }
      ok(request.path === '/bad' ? 422 : 200)(request, res, req);
    });
    const api = await start({ WEBHOOKS_METRICS_TOKEN: METRICS_TOKEN }, { database, delivery: { retrySchedule: [100], retryJitter: 0 } });
    for (const path of ['/ok', '/flaky', '/bad']) {
      expect((await api.request('POST', '/webhooks/subscriptions', { body: { url: target.url + path, events: ['order.*'] } })).status).toBe(201);
    }
    for (const item of ['book', 'pen']) expect((await api.request('POST', '/orders', { body: { item, quantity: 1 } })).status).toBe(201);
    // Each order: /ok once, /flaky twice (500, then 200), /bad twice (422, retried once, then failed).
    await target.waitForRequests(10, 15_000);
    const delivery = api.app.get(WebhookDeliveryManager);
    await eventually(async () => expect((await delivery.outboxStats()).pending).toBe(0), 15_000);
    await delivery.waitForPendingDeliveries();

    expect(await metrics(api, null)).toMatchObject({ status: 401 });
    const denied = await api.request('GET', '/metrics', { key: 'wrong-token-0123456789' });
    expect(denied).toMatchObject({ status: 401, body: { statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/WEBHOOKS_METRICS_TOKEN/) } });
    const scraped = await metrics(api, METRICS_TOKEN);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheusText(scraped.text);

    expect(target.requests).toHaveLength(10);
    expect(sumOf(samples, 'webhooks_tries_total')).toBe(target.requests.length);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'successful', status_class: '2xx' })).toBe(4);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'retrying', status_class: '5xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'retrying', status_class: '4xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_tries_total', { outcome: 'failed', status_class: '4xx' })).toBe(2);
    expect(sumOf(samples, 'webhooks_attempts_resolved_total', { status: 'successful' })).toBe(4);
    expect(sumOf(samples, 'webhooks_attempts_resolved_total', { status: 'failed' })).toBe(2);
    const tries = (await delivery.searchAttempts({})).flatMap((a) => a.history);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count')).toBe(target.requests.length);
    expect(sumOf(samples, 'webhooks_try_duration_seconds_sum')).toBeCloseTo(tries.reduce((total, t) => total + t.elapsedMs, 0) / 1000, 6);
    expect(sumOf(samples, 'webhooks_delivery_latency_seconds_count')).toBe(4);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'active' })).toBe(2);
    expect(sumOf(samples, 'webhooks_subscriptions', { state: 'failing' })).toBe(1);
    expect(sumOf(samples, 'webhooks_outbox_pending')).toBe(0);
    expect(sumOf(samples, 'webhooks_store_up')).toBe(1);
  }, 30_000);

  it('/metrics is open without WEBHOOKS_METRICS_TOKEN; on a delivering process /health goes 503 while a delivery waits past WEBHOOKS_HEALTH_MAX_OUTBOX_LAG', async () => {
    const held: ServerResponse[] = [];
    const target = await receiver((_request, res) => void held.push(res));
    const api = await start({ WEBHOOKS_HEALTH_MAX_OUTBOX_LAG: '50ms' });
    expect((await metrics(api, null)).status).toBe(200);
    expect(await api.request('GET', '/health', { key: null })).toMatchObject({ status: 200, body: { status: 'ok' } });

    await api.request('POST', '/webhooks/subscriptions', { body: { url: target.url, events: ['order.*'] } });
    await api.request('POST', '/orders', { body: { item: 'book', quantity: 1 } });
    await target.waitForRequests(1);
    const late = await eventually(async () => {
      const health = await api.request('GET', '/health', { key: null });
      expect(health.status).toBe(503);
      return health.body;
    });
    expect(late).toMatchObject({
      status: 'error',
      info: { database: { status: 'up' } },
      error: { webhooks: { status: 'down', pending: 1, active: 1, maxOutboxLagMs: 50 } },
    });
    expect(late.error.webhooks.message).toMatch(/^a due webhook attempt has waited \d+ ms for a worker \(maxOutboxLagMs: 50\)$/);
    expect(sumOf(parsePrometheusText((await metrics(api, null)).text), 'webhooks_requests_in_flight')).toBe(1);

    held.splice(0).forEach((res) => res.writeHead(200).end());
    await eventually(async () => expect(await api.request('GET', '/health', { key: null })).toMatchObject({ status: 200, body: { status: 'ok' } }));
  });

  it('/health of an API-only process is the database and the store answering: a backlog past WEBHOOKS_HEALTH_MAX_OUTBOX_LAG keeps it up', async () => {
    const target = await receiver();
    const api = await start({ WEBHOOKS_ROLE: 'api', WEBHOOKS_HEALTH_MAX_OUTBOX_LAG: '50ms' });
    await api.request('POST', '/webhooks/subscriptions', { body: { url: target.url, events: ['order.*'] } });
    await api.request('POST', '/orders', { body: { item: 'book', quantity: 1 } });
    // No worker runs: the delivery waits, longer and longer past the 50 ms.
    const health = await eventually(async () => {
      const answer = await api.request('GET', '/health', { key: null });
      expect(answer.body.info?.webhooks?.outboxLagMs).toBeGreaterThan(100);
      return answer;
    });
    expect(health).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { database: { status: 'up' }, webhooks: { status: 'up', pending: 1, worker: false, maxOutboxLagMs: null } } },
    });
    expect(target.requests).toHaveLength(0);
  });

  it('/health is 503 with both checks down when the database is gone', async () => {
    const api = await start();
    await api.app.get(WebhookStore).close();
    await api.app.get(DataSource).destroy();
    const health = await api.request('GET', '/health', { key: null });
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'error', error: { database: { status: 'down' }, webhooks: { status: 'down' } } });
    expect(health.body.error.webhooks.message).toMatch(/^the webhook store does not answer: /);
    // The scrape still answers, and says the store did not.
    expect(sumOf(parsePrometheusText((await metrics(api, null)).text), 'webhooks_store_up')).toBe(0);
  });

  it('refuses a short WEBHOOKS_METRICS_TOKEN and a malformed WEBHOOKS_HEALTH_MAX_OUTBOX_LAG', async () => {
    await expect(startExampleApp({ WEBHOOKS_METRICS_TOKEN: 'short' })).rejects.toThrow(/WEBHOOKS_METRICS_TOKEN must be at least 16 characters/);
    await expect(startExampleApp({ WEBHOOKS_HEALTH_MAX_OUTBOX_LAG: 'soon' })).rejects.toThrow(/WEBHOOKS_HEALTH_MAX_OUTBOX_LAG: "soon" is not a duration/);
  });
});
