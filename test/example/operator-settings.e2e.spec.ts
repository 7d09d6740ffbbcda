import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ConfigError, loadAppConfig } from '../../apps/example/src/config/app-config.js';
import { DATABASES } from '../support/databases.js';
import { startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { ok, TestReceiver } from '../support/receiver.js';

describe('example app: operator settings from the environment', () => {
  const base = { DATABASE_URL: 'sqlite:/tmp/x.sqlite' };

  it('reads the role, the retry schedule (with units), the lease and the poll interval', () => {
    const config = loadAppConfig({
      ...base,
      WEBHOOKS_ROLE: 'worker',
      WEBHOOKS_RETRY_SCHEDULE: '500ms, 5s,30m,2h,1500',
      WEBHOOKS_LEASE_MS: '15s',
      WEBHOOKS_POLL_INTERVAL_MS: '250',
    });
    expect(config.role).toBe('worker');
    expect(config.delivery).toEqual({ retrySchedule: [500, 5000, 1_800_000, 7_200_000, 1500], leaseMs: 15_000, pollIntervalMs: 250 });
    expect(loadAppConfig({ ...base, WEBHOOKS_RETRY_SCHEDULE: 'none' }).delivery.retrySchedule).toEqual([]);
    // Unset: the library's defaults, and both roles in one process.
    expect(loadAppConfig(base)).toMatchObject({ role: 'all', delivery: {} });
  });

  it.each([
    ['WEBHOOKS_ROLE', 'both', /WEBHOOKS_ROLE must be "all", "api" or "worker", got "both"/],
    ['WEBHOOKS_RETRY_SCHEDULE', '5s,soon', /WEBHOOKS_RETRY_SCHEDULE: "soon" is not a duration/],
    ['WEBHOOKS_RETRY_SCHEDULE', '-5s', /WEBHOOKS_RETRY_SCHEDULE: "-5s" is not a duration/],
    ['WEBHOOKS_RETRY_SCHEDULE', '60d', /WEBHOOKS_RETRY_SCHEDULE: "60d" is not a duration from 0ms to 30d/],
    ['WEBHOOKS_LEASE_MS', '500ms', /WEBHOOKS_LEASE_MS: "500ms" is not a duration from 3s/],
    ['WEBHOOKS_POLL_INTERVAL_MS', '1.5', /WEBHOOKS_POLL_INTERVAL_MS: "1.5" is not a duration/],
  ])('refuses %s=%s with one line naming it', (name, value, message) => {
    expect(() => loadAppConfig({ ...base, [name]: value })).toThrow(ConfigError);
    expect(() => loadAppConfig({ ...base, [name]: value })).toThrow(message);
  });
});

describe.each(DATABASES)('example app: a retry schedule of its own per subscription (%s)', (database) => {
  let api: RunningExampleApp | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await api?.close();
    await receiver?.close();
  });

  it('is validated, shown, used for the retries, and reset with null', async () => {
    receiver = await TestReceiver.start({ responder: ok(500) });
    // The server's own schedule would retry after 5 s: the subscription's is what the tries follow.
    api = await startExampleApp({}, { database });
    const created = await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url, events: ['order.*'], retrySchedule: [1000, 1000] } });
    expect(created.status).toBe(201);
    expect(created.body.retrySchedule).toEqual([1000, 1000]);
    expect((await api.request('POST', '/orders', { body: { item: 'book', quantity: 1 } })).status).toBe(201);
    await receiver.waitForRequests(3, 15_000);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const [attempt] = (await api.request('GET', `/webhooks/subscriptions/${created.body.id}/attempts`)).body.data;
    expect(attempt).toMatchObject({ status: 'failed', tries: 3 });
    const sent = receiver.requests.map((r) => r.receivedAt);
    // One second apart (the subscription's schedule), not 5 s (the server's).
    expect(sent[1]! - sent[0]!).toBeGreaterThanOrEqual(800);
    expect(sent[2]! - sent[1]!).toBeGreaterThanOrEqual(800);

    const reset = await api.request('PATCH', `/webhooks/subscriptions/${created.body.id}`, { body: { retrySchedule: null } });
    expect(reset.status).toBe(200);
    expect(reset.body.retrySchedule).toBeNull();
  }, 30_000);
});
