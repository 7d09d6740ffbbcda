import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebhookAttempt, WebhookDeliveryManager, WebhookEvents, WebhookMessages, WebhookPublisher, type WebhooksModuleOptions, type WebhookSubscriptionDeactivatedEvent, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock } from 'nest-webhooks/extensions';

import { FakeClock } from '../support/fake-clock.js';
import { ok, type ReceivedRequest, type Responder, TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES, STORES, type StoreKind, storeFor } from '../support/webhooks-app.js';

/**
 * The fault table of a webhook sender (a receiver that hangs, lies, floods, resets, redirects, answers 429/503 or
 * 410, …): one test per fault the library handles in process, each a numbered row named in its test.
 * Deliveries go over real HTTP(S) to loopback receivers; only the clock is a test double. Time is driven by hand: `step(ms)` moves the FakeClock, claims what became due and waits for it to be recorded,
 * so no test sleeps through a retry delay. The clock starts at the current (whole) second, so signatures stay
 * within the `standardwebhooks` verifier's 5-minute tolerance. The rows that depend on the HTTP client (1, 2,
 * 6, 8, 18, 19) run once with each transport (`axios`, `undici`, `undici-thread`), on the memory store. The rows
 * that depend on what is stored run on each store: row 10 (a crashed process) on SQLite and PostgreSQL, rows 11,
 * 16 and 17 also on the memory store. Rows 7, 9 and 12–15 are covered elsewhere.
 */

const WORKER = fileURLToPath(new URL('../fixtures/apps/durable-worker.mjs', import.meta.url));
const CA_FILE = fileURLToPath(new URL('../fixtures/tls/ca.pem', import.meta.url));
/** The rows that depend on the HTTP client run with each transport the library ships. */
const TRANSPORTS = ['axios', 'undici', 'undici-thread'] as const;
type Transport = (typeof TRANSPORTS)[number];

/** Runs `check` once per transport; a failure names the transport. */
async function eachTransport(check: (transport: Transport) => Promise<void>): Promise<void> {
  for (const transport of TRANSPORTS) {
    try {
      await check(transport);
    } catch (error) {
      if (error instanceof Error) error.message = `[transport: ${transport}] ${error.message}`;
      throw error;
    }
  }
}

/** `delivery.retrySchedule`'s documented default: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
const DEFAULT_SCHEDULE = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

interface Harness {
  app: INestApplication;
  clock: FakeClock;
  subscriptions: WebhookSubscriptionManager;
  delivery: WebhookDeliveryManager;
  publisher: WebhookPublisher;
  /** Advances the clock by `ms`, claims what is due then, and waits until those tries are recorded. */
  step(ms: number): Promise<void>;
  /** Advances the clock to `at` (if it is in the future) and does what `step` does. */
  stepTo(at: Date): Promise<void>;
  /** The only attempt of a subscription. */
  only(subscriptionId: string): Promise<WebhookAttempt>;
}

describe('§B5 fault table: the sender survives receiver and operator faults', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function receiver(responder?: Responder, protocol?: 'https' | 'http' | 'untrusted-https'): Promise<TestReceiver> {
    const started = await TestReceiver.start({ responder, protocol });
    cleanups.push(() => started.close());
    return started;
  }

  /** A fresh database for `kind` (none for the memory store), dropped after the test. */
  async function store(kind: StoreKind): Promise<TestDatabase | undefined> {
    const database = await storeFor(kind);
    if (database) cleanups.push(() => database.drop());
    return database;
  }

  async function boot(webhooks: WebhooksModuleOptions = {}, database?: TestDatabase): Promise<Harness> {
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const app = await createWebhooksApp({
      webhooks: { ...webhooks, delivery: { pollIntervalMs: 60_000, ...webhooks.delivery } },
      overrides: [{ provide: WebhookClock, useValue: clock }],
      database,
    });
    cleanups.push(() => app.close());
    const delivery = app.get(WebhookDeliveryManager);
    const step = async (ms: number) => {
      clock.advance(ms);
      await delivery.processDueAttempts();
      await delivery.waitForPendingDeliveries(10_000);
    };
    return {
      app,
      clock,
      subscriptions: app.get(WebhookSubscriptionManager),
      delivery,
      publisher: app.get(WebhookPublisher),
      step,
      stepTo: (at) => step(Math.max(0, at.getTime() - clock.now().getTime())),
      only: async (subscriptionId) => {
        const attempts = await delivery.listAttempts(subscriptionId);
        expect(attempts).toHaveLength(1);
        return attempts[0]!;
      },
    };
  }

  /** A port nothing listens on (it was bound a moment ago, then closed). */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  const delayOf = (attempt: WebhookAttempt, clock: FakeClock) => attempt.nextAttemptAt!.getTime() - clock.now().getTime();

  // ------------------------------------------------------------------------------------------------ row 1

  it('fault row 1: receiver down (closed port) → failed try "connection-refused", retried on the schedule ± jitter, health drops, other endpoints unaffected', () =>
    eachTransport(async (transport) => {
      const healthy = await receiver();
      const { subscriptions, publisher, delivery, clock, step } = await boot({ delivery: { transport, retryJitter: 0.2 } });
      const port = await closedPort();
      const { subscription: down } = await subscriptions.create({ url: `https://127.0.0.1:${port}/hooks`, events: ['fault.*'] });
      const { subscription: up } = await subscriptions.create({ url: `${healthy.url}/hooks`, events: ['fault.*'] });

      for (let i = 0; i < 5; i++) await publisher.publish('fault.down', { i });
      await delivery.waitForPendingDeliveries(10_000);

      const attempts = await delivery.listAttempts(down.id);
      expect(attempts).toHaveLength(5);
      const [lo, hi] = [DEFAULT_SCHEDULE[0]! * 0.8, DEFAULT_SCHEDULE[0]! * 1.2];
      for (const attempt of attempts) {
        expect(attempt).toMatchObject({ status: 'pending', tries: 1, message: WebhookMessages.attempt.RemoteError, response: null });
        expect(attempt.history[0]).toMatchObject({ statusCode: null, errorCode: 'connection-refused' });
        expect(delayOf(attempt, clock)).toBeGreaterThanOrEqual(lo);
        expect(delayOf(attempt, clock)).toBeLessThanOrEqual(hi);
      }
      // Jitter: the five retries are not synchronised on one instant.
      expect(new Set(attempts.map((a) => a.nextAttemptAt!.getTime())).size).toBeGreaterThan(1);
      // Endpoint health drops for the dead endpoint only.
      expect((await subscriptions.get(down.id))!.failingSince).toEqual(clock.now());
      expect((await subscriptions.get(up.id))!.failingSince).toBeNull();

      // The healthy endpoint got every event at once, unaffected by the dead one.
      expect(healthy.requests).toHaveLength(5);
      const delivered = await delivery.listAttempts(up.id);
      expect(delivered.map((a) => [a.status, a.message])).toEqual(Array(5).fill(['successful', '200 OK']));

      // Nothing is tried before it is due; at its due time, exactly one more try, then schedule[1] ± jitter.
      const first = attempts.reduce((a, b) => (a.nextAttemptAt! <= b.nextAttemptAt! ? a : b));
      await step(delayOf(first, clock) - 1);
      expect((await delivery.getAttempt(first.id))!.tries).toBe(1);
      await step(1);
      const retried = (await delivery.getAttempt(first.id))!;
      expect(retried).toMatchObject({ status: 'pending', tries: 2 });
      expect(retried.history[1]).toMatchObject({ statusCode: null, errorCode: 'connection-refused' });
      expect(delayOf(retried, clock)).toBeGreaterThanOrEqual(DEFAULT_SCHEDULE[1]! * 0.8);
      expect(delayOf(retried, clock)).toBeLessThanOrEqual(DEFAULT_SCHEDULE[1]! * 1.2);
      expect(healthy.requests).toHaveLength(5);
    }));

  // ------------------------------------------------------------------------------------------------ row 2

  it('fault row 2: slow receiver — (a) hangs, (b) sends headers then drips the body — is stopped by the total deadline: "timeout", next try ≥ overloadDelayMs', () =>
    eachTransport(async (transport) => {
      const closedByClient = new Set<string>();
      const slow = await receiver((request, res) => {
        res.on('close', () => closedByClient.add(request.path));
        if (request.path === '/hang') return; // never answers
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('.');
        const drip = setInterval(() => res.write('.'), 50); // 20 B/s, never ends: an idle timeout never fires
        res.on('close', () => clearInterval(drip));
      });
      const overloadDelayMs = 60_000;
      const { subscriptions, publisher, delivery, clock, only } = await boot({ delivery: { transport, timeoutMs: 400, overloadDelayMs } });
      const { subscription: hang } = await subscriptions.create({ url: `${slow.url}/hang`, events: ['fault.*'] });
      const { subscription: drip } = await subscriptions.create({ url: `${slow.url}/drip`, events: ['fault.*'] });

      await publisher.publish('fault.slow', { n: 1 });
      // Without a total deadline the drip would keep this waiting far beyond its bound.
      await delivery.waitForPendingDeliveries(5_000);

      expect(slow.requests.map((r) => r.path).sort()).toEqual(['/drip', '/hang']);
      for (const id of [hang.id, drip.id]) {
        const attempt = await only(id);
        expect(attempt).toMatchObject({ status: 'pending', tries: 1, message: WebhookMessages.attempt.RemoteError, response: null });
        expect(attempt.history[0]).toMatchObject({ statusCode: null, errorCode: 'timeout' });
        expect(delayOf(attempt, clock)).toBeGreaterThanOrEqual(overloadDelayMs);
      }
      // The client gave up on both connections (the receiver saw them close while it was still "working").
      await expect.poll(() => [...closedByClient].sort(), { timeout: 2_000 }).toEqual(['/drip', '/hang']);
    }));

  // ------------------------------------------------------------------------------------------------ row 3

  it('fault row 3: 5xx storm (500/502/503) → each try follows the schedule with jitter (503: at least overloadDelayMs); the receiver gets exactly 1 + schedule.length requests per event', async () => {
    const schedule = [5_000, 30_000, 120_000, 300_000, 600_000];
    const jitter = 0.2;
    const overloadDelayMs = 60_000;
    const storm = [503, 500, 502]; // a 503 first: the 5 s first delay is raised to overloadDelayMs
    const seen = new Map<string, Array<{ at: number; status: number }>>();
    let clock!: FakeClock;
    let recovered = false;
    const flaky = await receiver((request, res) => {
      const id = request.headers['webhook-id']!;
      const tries = seen.get(id) ?? [];
      const status = recovered ? 200 : storm[tries.length % storm.length]!;
      tries.push({ at: clock.now().getTime(), status });
      seen.set(id, tries);
      ok(status)(request, res, undefined as never);
    });
    const h = await boot({ delivery: { retrySchedule: schedule, retryJitter: jitter, overloadDelayMs } });
    clock = h.clock;
    const { subscription } = await h.subscriptions.create({ url: `${flaky.url}/storm`, events: ['fault.*'] });

    const EVENTS = 4;
    for (let i = 0; i < EVENTS; i++) await h.publisher.publish('fault.storm', { i });
    await h.delivery.waitForPendingDeliveries(10_000);

    // Every scheduled delay, as stored: `${attempt}:${tries}` → { delay after that try, status of that try }.
    const delays = new Map<string, { tries: number; delay: number; status: number | null }>();
    const recordDelays = async () => {
      for (const attempt of await h.delivery.listAttempts(subscription.id)) {
        if (attempt.status !== 'pending') continue;
        const last = attempt.history.at(-1)!;
        delays.set(`${attempt.id}:${attempt.tries}`, { tries: attempt.tries, delay: attempt.nextAttemptAt!.getTime() - last.startedAt.getTime(), status: last.statusCode });
      }
    };
    await recordDelays();

    // The outage lasts longer than the whole schedule can take; time moves in 1-second steps.
    const STEP = 1_000;
    const window = schedule.reduce((sum, d) => sum + Math.max(d * (1 + jitter), overloadDelayMs), 0) + 10 * STEP;
    for (let t = 0; t < window; t += STEP) {
      await h.step(STEP);
      await recordDelays();
    }

    // Each stored delay is the schedule's ± jitter (503: at least overloadDelayMs) …
    const bounds = (tries: number, status: number | null): [number, number] => {
      const lo = Math.floor(schedule[tries - 1]! * (1 - jitter));
      const hi = Math.ceil(schedule[tries - 1]! * (1 + jitter));
      return status === 503 ? [Math.max(lo, overloadDelayMs), Math.max(hi, overloadDelayMs)] : [lo, hi];
    };
    expect(delays.size).toBe(EVENTS * schedule.length);
    for (const { tries, delay, status } of delays.values()) {
      const [lo, hi] = bounds(tries, status);
      expect(delay, `delay after try ${tries} (${status})`).toBeGreaterThanOrEqual(lo);
      expect(delay, `delay after try ${tries} (${status})`).toBeLessThanOrEqual(hi);
    }
    // … and jittered: the events' retries after the 500 (try 2) are not synchronised on one instant.
    expect(new Set([...delays.values()].filter((d) => d.tries === 2).map((d) => d.delay)).size).toBeGreaterThan(1);

    // The receiver saw exactly 1 + schedule.length requests per event, spaced as the schedule says.
    expect(flaky.requests).toHaveLength(EVENTS * (1 + schedule.length));
    expect(seen.size).toBe(EVENTS);
    for (const tries of seen.values()) {
      expect(tries).toHaveLength(1 + schedule.length);
      for (let k = 1; k < tries.length; k++) {
        const [lo, hi] = bounds(k, tries[k - 1]!.status);
        const gap = tries[k]!.at - tries[k - 1]!.at;
        expect(gap).toBeGreaterThanOrEqual(lo);
        expect(gap).toBeLessThan(hi + STEP); // the clock moves in steps
      }
    }
    const attempts = await h.delivery.listAttempts(subscription.id);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ status: 'failed', tries: 1 + schedule.length, nextAttemptAt: null });
      expect(attempt.history.map((t) => t.statusCode)).toEqual([503, 500, 502, 503, 500, 502]);
    }

    // Recovery: the endpoint is still active and the next event goes through at once.
    recovered = true;
    await h.publisher.publish('fault.storm', { i: 'after' });
    await h.delivery.waitForPendingDeliveries(10_000);
    expect((await h.delivery.listAttempts(subscription.id))[0]).toMatchObject({ status: 'successful', message: '200 OK' });
  });

  // ------------------------------------------------------------------------------------------------ row 4

  it('fault row 4: 410 Gone → attempt failed without retry, subscription deactivated ("gone", EndpointGone), webhooks.subscription.deactivated emitted once', async () => {
    const gone = await receiver(ok(410));
    const { app, subscriptions, publisher, delivery, step, only } = await boot();
    const deactivated: WebhookSubscriptionDeactivatedEvent[] = [];
    app.get(EventEmitter2).on(WebhookEvents.SubscriptionDeactivated, (event: WebhookSubscriptionDeactivatedEvent) => deactivated.push(event));
    const { subscription } = await subscriptions.create({ url: `${gone.url}/gone`, events: ['fault.*'] });

    await publisher.publish('fault.gone', { n: 1 });
    await delivery.waitForPendingDeliveries(10_000);

    const attempt = await only(subscription.id);
    expect(attempt).toMatchObject({ status: 'failed', message: '410 Gone', tries: 1, nextAttemptAt: null });
    expect(attempt.history[0]).toMatchObject({ statusCode: 410, errorCode: null });
    expect(await subscriptions.get(subscription.id)).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.EndpointGone });
    expect(deactivated).toHaveLength(1);
    expect(deactivated[0]!.reason).toBe('gone');
    expect(deactivated[0]!.subscription).toMatchObject({ id: subscription.id, active: false });

    // No retry ever, and new events do not go there.
    for (const ms of DEFAULT_SCHEDULE) await step(ms * 2);
    expect(await publisher.publish('fault.gone', { n: 2 })).toEqual([]);
    await delivery.waitForPendingDeliveries(10_000);
    expect(gone.requests).toHaveLength(1);
    expect(deactivated).toHaveLength(1);
  });

  // ------------------------------------------------------------------------------------------------ row 5

  it('fault row 5: 429/503 with Retry-After (seconds or HTTP date) → honoured, clamped to [base, 2×base] with base = max(jittered schedule delay, overloadDelayMs)', async () => {
    const overloadDelayMs = 60_000;
    const { subscriptions, publisher, delivery, clock } = await boot({ delivery: { retrySchedule: [5_000], retryJitter: 0.2, overloadDelayMs } });
    const at = (ms: number) => new Date(clock.now().getTime() + ms).toUTCString();
    // base = max(5 s ± 20 %, 60 s) = 60 s for the global schedule; the last two use a 100 s schedule: base = 100 s ± 20 %.
    const cases: Array<{ name: string; status: number; retryAfter?: string; schedule?: number[]; expected: [number, number] }> = [
      { name: '429-none', status: 429, expected: [60_000, 60_000] },
      { name: '429-seconds', status: 429, retryAfter: '90', expected: [90_000, 90_000] },
      { name: '429-seconds-too-long', status: 429, retryAfter: '86400', expected: [120_000, 120_000] },
      { name: '429-seconds-too-short', status: 429, retryAfter: '0', expected: [60_000, 60_000] },
      { name: '429-date', status: 429, retryAfter: at(100_000), expected: [100_000, 100_000] },
      { name: '503-seconds', status: 503, retryAfter: '100', expected: [100_000, 100_000] },
      { name: '503-date-too-far', status: 503, retryAfter: at(3_600_000), expected: [120_000, 120_000] },
      { name: '503-date-past', status: 503, retryAfter: at(-3_600_000), expected: [60_000, 60_000] },
      { name: '429-jittered-long', status: 429, retryAfter: '1000', schedule: [100_000], expected: [160_000, 240_000] },
      { name: '503-jittered-short', status: 503, retryAfter: '1', schedule: [100_000], expected: [80_000, 120_000] },
    ];
    const byPath = new Map(cases.map((c) => [`/${c.name}`, c]));
    const throttling = await receiver((request, res) => {
      const c = byPath.get(request.path)!;
      res.writeHead(c.status, c.retryAfter === undefined ? {} : { 'retry-after': c.retryAfter });
      res.end();
    });
    const ids = new Map<string, string>();
    for (const c of cases) {
      const { subscription } = await subscriptions.create({ url: `${throttling.url}/${c.name}`, events: ['never.*'], retrySchedule: c.schedule });
      ids.set(c.name, subscription.id);
      await publisher.publishTo(subscription.id, 'fault.throttled', { case: c.name });
    }
    await delivery.waitForPendingDeliveries(10_000);

    expect(throttling.requests).toHaveLength(cases.length);
    const delays: Record<string, number> = {};
    const expected: Record<string, number | string> = {};
    for (const c of cases) {
      const [attempt] = await delivery.listAttempts(ids.get(c.name)!);
      expect(attempt).toMatchObject({ status: 'pending', tries: 1 });
      expect(attempt!.history[0]!.statusCode).toBe(c.status);
      const delay = delayOf(attempt!, clock);
      const [lo, hi] = c.expected;
      delays[c.name] = delay;
      expected[c.name] = lo <= delay && delay <= hi ? delay : lo === hi ? lo : `${lo}..${hi}`;
    }
    expect(delays).toEqual(expected);
  });

  // ------------------------------------------------------------------------------------------------ row 6

  it('fault row 6: connection reset after the request was read → failed try "connection-reset", retried with the same webhook-id and a fresh timestamp and signature', () =>
    eachTransport(async (transport) => {
      let resets = 1;
      const resetting = await receiver((_request, res, req) => {
        if (resets-- > 0) req.socket.destroy(); // the whole request was read; the answer never comes
        else ok(200)(_request, res, req);
      });
      const { subscriptions, publisher, delivery, clock, stepTo, only } = await boot({ delivery: { transport } });
      const { subscription, secret } = await subscriptions.create({ url: `${resetting.url}/reset`, events: ['fault.*'] });

      await publisher.publish('fault.reset', { n: 1 });
      await delivery.waitForPendingDeliveries(10_000);
      const failed = await only(subscription.id);
      expect(failed).toMatchObject({ status: 'pending', tries: 1, message: WebhookMessages.attempt.RemoteError, response: null });
      expect(failed.history[0]).toMatchObject({ statusCode: null, errorCode: 'connection-reset' });
      expect(delayOf(failed, clock)).toBeGreaterThanOrEqual(DEFAULT_SCHEDULE[0]! * 0.8);
      expect(delayOf(failed, clock)).toBeLessThanOrEqual(DEFAULT_SCHEDULE[0]! * 1.2);

      await stepTo(failed.nextAttemptAt!);
      expect(await only(subscription.id)).toMatchObject({ status: 'successful', message: '200 OK', tries: 2 });
      expect(resetting.requests).toHaveLength(2);
      const [first, retry] = resetting.requests as [ReceivedRequest, ReceivedRequest];
      expect(retry.headers['webhook-id']).toBe(first.headers['webhook-id']);
      expect(retry.headers['webhook-id']).toBe(failed.webhookId);
      expect(retry.body).toBe(first.body);
      expect(Number(retry.headers['webhook-timestamp'])).toBeGreaterThan(Number(first.headers['webhook-timestamp']));
      expect(retry.headers['webhook-timestamp']).toBe(String(Math.floor(clock.now().getTime() / 1000)));
      expect(retry.headers['webhook-signature']).not.toBe(first.headers['webhook-signature']);
      for (const request of [first, retry]) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
    }));

  // ------------------------------------------------------------------------------------------------ row 8

  it('fault row 8: TLS error (certificate no configured CA trusts) → failed try "tls", retried; verification is never turned off', () =>
    eachTransport(async (transport) => {
      const untrusted = await receiver(ok(200), 'untrusted-https');
      const trusted = await receiver(ok(200));
      const { subscriptions, publisher, delivery, clock, stepTo, only } = await boot({ delivery: { transport } });
      const { subscription: bad } = await subscriptions.create({ url: `${untrusted.url}/tls`, events: ['fault.*'] });
      const { subscription: good } = await subscriptions.create({ url: `${trusted.url}/tls`, events: ['fault.*'] });

      await publisher.publish('fault.tls', { n: 1 });
      await delivery.waitForPendingDeliveries(10_000);
      const failed = await only(bad.id);
      expect(failed).toMatchObject({ status: 'pending', tries: 1, message: WebhookMessages.attempt.RemoteError, response: null });
      expect(failed.history[0]).toMatchObject({ statusCode: null, errorCode: 'tls' });
      expect(delayOf(failed, clock)).toBeGreaterThanOrEqual(DEFAULT_SCHEDULE[0]! * 0.8);
      expect(delayOf(failed, clock)).toBeLessThanOrEqual(DEFAULT_SCHEDULE[0]! * 1.2);

      await stepTo(failed.nextAttemptAt!);
      const retried = await only(bad.id);
      expect(retried).toMatchObject({ status: 'pending', tries: 2 });
      expect(retried.history[1]).toMatchObject({ statusCode: null, errorCode: 'tls' });
      // The untrusted server never got an HTTP request: the handshake was refused both times.
      expect(untrusted.requests).toHaveLength(0);
      // Trusting the test CA did not loosen anything for the trusted receiver either: it is verified and works.
      expect(await only(good.id)).toMatchObject({ status: 'successful', message: '200 OK' });
      expect(trusted.requests).toHaveLength(1);
    }));

  // ------------------------------------------------------------------------------------------------ row 10

  it.each(DATABASE_STORES)('fault row 10: crash after send, before the result is recorded → after a restart exactly ONE duplicate, with the same webhook-id (%s)', async (kind) => {
    const database = await createTestDatabase(kind);
    cleanups.push(() => database.drop());
    const secret = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
    const held: ServerResponse[] = [];
    const crashReceiver = await receiver((request, res) => {
      if (crashReceiver.requests.length === 1) held.push(res); // hold the first answer until the sender is dead
      else ok(200)(request, res, undefined as never);
    });
    const children: ChildProcess[] = [];
    cleanups.push(() => children.forEach((child) => child.kill('SIGKILL')));
    const start = (mode: string) => {
      const child = spawn(process.execPath, [WORKER], {
        // The shortest lease allowed (3 s): the restarted worker takes the dead one's attempt over once it runs out.
        env: { ...process.env, CA_FILE, SECRET: secret, DATABASE_URL: database.url, RECEIVER_URL: `${crashReceiver.url}/crash`, MODE: mode, COUNT: '1', LEASE_MS: '3000' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      let dead = false;
      child.stdout!.on('data', (c) => (output += c));
      child.stderr!.on('data', (c) => (output += c));
      const exited = new Promise<void>((resolve) => child.on('exit', () => ((dead = true), resolve())));
      /** Waits for `check`, failing at once (with the child's output) if the child died on its own. */
      const until = async (check: () => boolean | Promise<boolean>, what: string) => {
        const deadline = Date.now() + 15_000;
        while (!(await check())) {
          if (dead) throw new Error(`the ${mode} worker exited before ${what}:\n${output}`);
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      return { child, exited, until };
    };
    /** The attempt rows, read on a connection of the test's own. */
    const attemptRows = async () =>
      (await database.query('SELECT webhook_id AS "webhookId", status, tries FROM webhook_attempt ORDER BY id')) as Array<{ webhookId: string; status: string; tries: number }>;

    const first = start('publish');
    await first.until(() => crashReceiver.requests.length >= 1, 'the first request');
    first.child.kill('SIGKILL');
    await first.exited;
    held.forEach((res) => res.destroy());
    // The try was sent but its result never recorded.
    expect(await attemptRows()).toEqual([{ webhookId: crashReceiver.requests[0]!.headers['webhook-id'], status: 'pending', tries: 0 }]);

    const second = start('resume');
    await second.until(async () => (await attemptRows())[0]?.status === 'successful', 'the redelivery to be recorded');
    second.child.kill('SIGKILL');
    await second.exited;

    expect(crashReceiver.requests).toHaveLength(2);
    const [sent, duplicate] = crashReceiver.requests as [ReceivedRequest, ReceivedRequest];
    expect(duplicate.headers['webhook-id']).toBe(sent.headers['webhook-id']);
    expect(duplicate.body).toBe(sent.body);
    for (const request of [sent, duplicate]) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
    expect(await attemptRows()).toEqual([{ webhookId: sent.headers['webhook-id'], status: 'successful', tries: 1 }]);
  }, 30_000);

  // ------------------------------------------------------------------------------------------------ row 11

  it.each(STORES)('fault row 11: the same event published twice with one idempotencyKey → one attempt and one delivery per subscription (%s)', async (kind) => {
    const target = await receiver();
    const { subscriptions, publisher, delivery } = await boot({}, await store(kind));
    const { subscription: a } = await subscriptions.create({ url: `${target.url}/a`, events: ['order.*'] });
    const { subscription: b } = await subscriptions.create({ url: `${target.url}/b`, events: ['order.*'] });
    const publish = (key: string) => publisher.publish('order.created', { id: 'o-1' }, { idempotencyKey: key });

    // Sequential duplicate (the app retried its call), before and after the first delivery finished.
    expect(await publish('order-1')).toHaveLength(2);
    expect(await publish('order-1')).toEqual([]);
    await delivery.waitForPendingDeliveries(10_000);
    expect(await publish('order-1')).toEqual([]);
    // Concurrent duplicates (a double submit): still one attempt per subscription.
    const concurrent = await Promise.all([publish('order-2'), publish('order-2'), publish('order-2')]);
    expect.soft(concurrent.flat(), `${kind}: attempts returned by concurrent publishes`).toHaveLength(2);
    await delivery.waitForPendingDeliveries(10_000);

    for (const [subscription, path] of [[a, '/a'], [b, '/b']] as const) {
      const attempts = await delivery.listAttempts(subscription.id);
      expect.soft(attempts.map((x) => [x.idempotencyKey, x.status]), kind).toEqual([
        ['order-2', 'successful'],
        ['order-1', 'successful'],
      ]);
      const received = target.requests.filter((r) => r.path === path);
      expect.soft(received.map((r) => r.headers['webhook-id']).sort(), kind).toEqual(attempts.map((x) => x.webhookId).sort());
    }
    expect.soft(target.requests.length, `${kind}: requests received`).toBe(4);
  });

  // ------------------------------------------------------------------------------------------------ row 16

  it.each(STORES)('fault row 16: subscription deactivated or deleted while a retry is pending → pending attempt cancelled, no further request; after re-activation a manual redeliver works (%s)', async (kind) => {
    let answer = 500;
    const target = await receiver((request, res, req) => ok(answer)(request, res, req));
    const { subscriptions, publisher, delivery, step, only } = await boot({}, await store(kind));
    const { subscription: paused } = await subscriptions.create({ url: `${target.url}/paused`, events: ['fault.*'] });
    const { subscription: removed } = await subscriptions.create({ url: `${target.url}/removed`, events: ['fault.*'] });

    await publisher.publish('fault.cancel', { n: 1 });
    await delivery.waitForPendingDeliveries(10_000);
    const pausedAttempt = await only(paused.id);
    const removedAttempt = await only(removed.id);
    for (const attempt of [pausedAttempt, removedAttempt]) expect(attempt).toMatchObject({ status: 'pending', tries: 1, message: '500 Internal Server Error' });

    expect(await subscriptions.deactivate(paused.id)).toBe(true);
    expect(await subscriptions.delete(removed.id)).toBe(true);
    expect(await delivery.getAttempt(pausedAttempt.id)).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.Cancelled, nextAttemptAt: null });
    // Deleting a subscription deletes its history, pending attempts included.
    expect(await delivery.getAttempt(removedAttempt.id)).toBeNull();

    // Long past every retry time: nothing more is sent.
    answer = 200;
    for (const ms of DEFAULT_SCHEDULE) await step(ms * 2);
    expect(target.requests).toHaveLength(2);
    expect(await delivery.getAttempt(pausedAttempt.id)).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.Cancelled });

    // Re-activated, the operator redelivers the cancelled attempt: same webhook-id and body, delivered.
    expect(await subscriptions.activate(paused.id)).toBe(true);
    const redelivery = await delivery.redeliver(pausedAttempt.id);
    expect(redelivery.webhookId).toBe(pausedAttempt.webhookId);
    await delivery.waitForPendingDeliveries(10_000);
    expect(await delivery.getAttempt(redelivery.id)).toMatchObject({ status: 'successful', message: '200 OK' });
    expect(target.requests).toHaveLength(3);
    expect(target.requests[2]).toMatchObject({ path: '/paused', body: target.requests.find((r) => r.path === '/paused')!.body });
    expect(target.requests[2]!.headers['webhook-id']).toBe(pausedAttempt.webhookId);
  });

  // ------------------------------------------------------------------------------------------------ row 17

  it.each(STORES)('fault row 17: secret rotated between tries → the retry is signed with the new and the old secret during the overlap, and verifies with each (%s)', async (kind) => {
    const target = await receiver(ok(500));
    const { subscriptions, publisher, delivery, stepTo, only } = await boot({ delivery: { retrySchedule: [1_000, 2_000], retryJitter: 0 } }, await store(kind));
    const { subscription, secret: oldSecret } = await subscriptions.create({ url: `${target.url}/rotate`, events: ['fault.*'] });

    await publisher.publish('fault.rotate', { n: 1 });
    await delivery.waitForPendingDeliveries(10_000);
    const { secret: newSecret } = await subscriptions.rotateSecret(subscription.id, 1_500); // old one signs 1.5 s more
    expect(newSecret).not.toBe(oldSecret);

    await stepTo((await only(subscription.id)).nextAttemptAt!); // +1 s: inside the overlap
    await stepTo((await only(subscription.id)).nextAttemptAt!); // +3 s: the old secret has expired
    expect(target.requests).toHaveLength(3);
    const [before, during, after] = target.requests as [ReceivedRequest, ReceivedRequest, ReceivedRequest];
    const verifies = (secret: string, request: ReceivedRequest) => {
      try {
        new Webhook(secret).verify(request.body, request.headers);
        return true;
      } catch {
        return false;
      }
    };
    const signatures = (request: ReceivedRequest) => request.headers['webhook-signature']!.split(' ').length;
    expect([signatures(before), verifies(oldSecret, before), verifies(newSecret, before)]).toEqual([1, true, false]);
    expect([signatures(during), verifies(oldSecret, during), verifies(newSecret, during)]).toEqual([2, true, true]);
    expect([signatures(after), verifies(oldSecret, after), verifies(newSecret, after)]).toEqual([1, false, true]);
    expect(new Set(target.requests.map((r) => r.headers['webhook-id'])).size).toBe(1);
  });

  // ------------------------------------------------------------------------------------------------ row 18

  it('fault row 18: endless response body → read stops at maxStoredResponseBytes, the socket is destroyed, the body is stored truncated and the outcome recorded', () =>
    eachTransport(async (transport) => {
      const MAX = 1_024;
      const closed = new Set<string>();
      const chunk = 'x'.repeat(16 * 1024);
      const endless = await receiver((request, res) => {
        let open = true;
        res.on('close', () => ((open = false), closed.add(request.path)));
        res.writeHead(request.path === '/ok' ? 200 : 500, { 'content-type': 'text/plain' });
        const pump = () => {
          while (open && res.write(chunk));
          if (open) res.once('drain', pump);
        };
        pump();
      });
      const { subscriptions, publisher, delivery, only } = await boot({ delivery: { transport, maxStoredResponseBytes: MAX, timeoutMs: 5_000 } });
      const { subscription: okSub } = await subscriptions.create({ url: `${endless.url}/ok`, events: ['fault.*'] });
      const { subscription: errorSub } = await subscriptions.create({ url: `${endless.url}/error`, events: ['fault.*'] });

      await publisher.publish('fault.endless', { n: 1 });
      // Had the read not stopped, it would have run into the 5 s deadline and been recorded as a timeout.
      await delivery.waitForPendingDeliveries(10_000);

      const succeeded = await only(okSub.id);
      expect(succeeded).toMatchObject({ status: 'successful', message: '200 OK', tries: 1 });
      expect(succeeded.history[0]).toMatchObject({ statusCode: 200, errorCode: null });
      expect(succeeded.response).toMatchObject({ statusCode: 200, truncated: true, body: 'x'.repeat(MAX) });
      const failed = await only(errorSub.id);
      expect(failed).toMatchObject({ status: 'pending', message: '500 Internal Server Error', tries: 1 });
      expect(failed.history[0]).toMatchObject({ statusCode: 500, errorCode: null });
      expect(failed.response).toMatchObject({ statusCode: 500, truncated: true, body: 'x'.repeat(MAX) });
      // The sender hung up on both endless streams.
      await expect.poll(() => [...closed].sort(), { timeout: 2_000 }).toEqual(['/error', '/ok']);
    }));

  // ------------------------------------------------------------------------------------------------ row 19

  it('fault row 19: redirects (301/302/307/308, also to 169.254.169.254) → failure "<code> <reason>", never followed', () =>
    eachTransport(async (transport) => {
      const elsewhere = await receiver(ok(200));
      const targets = { metadata: 'http://169.254.169.254/latest/meta-data/', elsewhere: `${elsewhere.url}/stolen` };
      const reasons: Record<number, string> = { 301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect' };
      const redirecting = await receiver((request, res) => {
        const [, code, target] = request.path.split('/');
        res.writeHead(Number(code), { location: targets[target as keyof typeof targets] });
        res.end();
      });
      const { subscriptions, publisher, delivery, only } = await boot({ delivery: { transport } });
      const cases: Array<{ code: number; target: keyof typeof targets; id: string }> = [];
      for (const code of [301, 302, 307, 308]) {
        for (const target of ['metadata', 'elsewhere'] as const) {
          const { subscription } = await subscriptions.create({ url: `${redirecting.url}/${code}/${target}`, events: ['fault.*'] });
          cases.push({ code, target, id: subscription.id });
        }
      }

      await publisher.publish('fault.redirect', { n: 1 });
      await delivery.waitForPendingDeliveries(10_000);

      for (const { code, target, id } of cases) {
        const attempt = await only(id);
        const message = `${code} ${reasons[code]}`;
        expect(attempt.status, message).not.toBe('successful');
        expect(attempt, `${code} → ${target}`).toMatchObject({ message, tries: 1 });
        // An HTTP answer from the receiver itself, not a blocked or failed follow-up request.
        expect(attempt.history[0], `${code} → ${target}`).toMatchObject({ statusCode: code, errorCode: null, message });
        expect(attempt.response).toMatchObject({ statusCode: code, headers: { location: targets[target] } });
      }
      expect(redirecting.requests.map((r) => r.path).sort()).toEqual(cases.map((c) => `/${c.code}/${c.target}`).sort());
      expect(elsewhere.requests).toHaveLength(0);
    }));
});

