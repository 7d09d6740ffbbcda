import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { eventually, type RunningExampleApp, startExampleApp } from '../support/example-app.js';
import { type ExampleProcess, runExample, waitForOutput } from '../support/example-process.js';
import { parsePrometheusText, sumOf } from '../support/prometheus.js';
import { TestReceiver } from '../support/receiver.js';

const METRICS_TOKEN = 'worker-metrics-token-0123456789';

/** In an API/worker split the tries happen in the workers: with WEBHOOKS_WORKER_PORT a worker serves /health and /metrics. */
describe.each(DATABASES)('example app: a worker serves /health and /metrics on WEBHOOKS_WORKER_PORT (%s)', (kind) => {
  let database: TestDatabase | undefined;
  let api: RunningExampleApp | undefined;
  let worker: ExampleProcess | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    worker?.kill();
    await worker?.exit;
    await api?.close();
    await receiver?.close();
    await database?.drop();
  });

  it("counts the tries it made; the API process counts none of them; no management API on the worker's port", async () => {
    database = await createTestDatabase(kind);
    // HTTP: the worker is a separate process, without the test CA the in-process app is given.
    receiver = await TestReceiver.start({ protocol: 'http' });
    const shared = { WEBHOOKS_ALLOW_HTTP: 'true', WEBHOOKS_METRICS_TOKEN: METRICS_TOKEN };
    api = await startExampleApp({ ...shared, WEBHOOKS_ROLE: 'api' }, { database });
    worker = runExample({
      ...shared,
      WEBHOOKS_ROLE: 'worker',
      WEBHOOKS_WORKER_PORT: '0',
      DATABASE_URL: database.url,
      WEBHOOKS_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
      WEBHOOKS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
      WEBHOOKS_POLL_INTERVAL_MS: '100',
    });
    const [, port] = await waitForOutput(worker, /\/health and \/metrics on http:\/\/localhost:(\d+)/);
    const workerUrl = `http://127.0.0.1:${port}`;

    expect((await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/hooks`, events: ['order.*'] } })).status).toBe(201);
    for (const item of ['book', 'pen', 'ink']) expect((await api.request('POST', '/orders', { body: { item, quantity: 1 } })).status).toBe(201);
    await receiver.waitForRequests(3, 15_000);

    const scrape = async (base: string) => {
      const response = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(response.status).toBe(200);
      return parsePrometheusText(await response.text());
    };
    // The outcome is recorded just after the receiver answered: wait for the counter, not a fixed time.
    const samples = await eventually(async () => {
      const scraped = await scrape(workerUrl);
      expect(sumOf(scraped, 'webhooks_tries_total', { outcome: 'successful' })).toBe(3);
      return scraped;
    });
    expect(sumOf(samples, 'webhooks_try_duration_seconds_count')).toBe(3);
    expect(sumOf(await scrape(api.baseUrl), 'webhooks_tries_total')).toBe(0);

    const health = await fetch(`${workerUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', info: { database: { status: 'up' }, webhooks: { status: 'up', worker: true } } });
    expect((await fetch(`${workerUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${workerUrl}/webhooks/subscriptions`)).status).toBe(404);
  }, 60_000);
});
