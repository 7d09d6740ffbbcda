import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { WebhookPayload, WebhookPublisher, type WebhookSubscription, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookStore } from 'nest-webhooks/extensions';
import { startLibraryAt } from './backlog-app.js';
import { library, startLibrary, type Store, type Window } from './contestants.js';
import { payload, percentile, type Receiver, sleep } from './harness.js';

// ------------------------------------------------------------------ latency under a constant offered load

export interface LatencyResult {
  p50: number;
  p99: number;
  delivered: number;
  offered: number;
}

/**
 * Open loop: events are emitted on a fixed schedule; latency counts from the scheduled time. First
 * `warmupSeconds` of the same schedule, not timed (a cold JIT and 64 connections being opened), then a wait
 * until the receiver has had every warm-up request (at most as long as the warm-up: a sender that cannot keep up
 * stays behind, and the timed part shows it), so the timed part starts from the steady state and not behind
 * the start's backlog; then `seconds` timed.
 */
async function openLoop(
  receiver: Receiver,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  send: (seq: number, scheduledAt: number | undefined) => void,
): Promise<LatencyResult> {
  await receiver.reset();
  const warmup = Math.floor(rate * warmupSeconds);
  await schedule(rate, 0, warmup, false, send);
  await receiverHas(receiver, warmup, 1000 * warmupSeconds);
  const timed = Math.floor(rate * seconds);
  await schedule(rate, warmup, timed, true, send);
  // What has not arrived 1.5 s after the last event was due counts as not delivered in time.
  await receiverHas(receiver, warmup + timed, 1500);
  const { latencies } = await receiver.stats();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), delivered: latencies.length, offered: timed };
}

/** Waits until the receiver has had `count` requests since its reset, or `timeoutMs` has passed. */
async function receiverHas(receiver: Receiver, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await receiver.stats()).count < count && Date.now() < deadline) await sleep(10);
}

/** Sends `count` events numbered from `first` at `rate` per second, each as soon as its time has come (and, if `timed`, with that time). */
async function schedule(rate: number, first: number, count: number, timed: boolean, send: (seq: number, scheduledAt: number | undefined) => void): Promise<void> {
  const start = performance.timeOrigin + performance.now();
  let sent = 0;
  while (sent < count) {
    const now = performance.timeOrigin + performance.now();
    const due = Math.min(count, Math.floor(((now - start) / 1000) * rate));
    for (; sent < due; sent++) send(first + sent, timed ? start + (sent / rate) * 1000 : undefined);
    await sleep(1);
  }
}

export async function latencyRaw(receiver: Receiver, rate: number, seconds: number, warmupSeconds: number, concurrency: number): Promise<LatencyResult> {
  const url = new URL(receiver.url);
  const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
  const result = await openLoop(receiver, rate, seconds, warmupSeconds, (seq, scheduledAt) => {
    const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: payload(seq, { scheduledAt }) });
    void pool.request({ path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.body.dump());
  });
  await pool.close();
  return result;
}

export async function latencyLibrary(
  receiver: Receiver,
  rate: number,
  seconds: number,
  warmupSeconds: number,
  concurrency: number,
  store: Store,
  transport: 'undici' | 'undici-thread' = 'undici',
): Promise<LatencyResult> {
  const lib = await startLibrary(store, { delivery: { concurrency, perEndpointConcurrency: concurrency, transport } });
  await lib.app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] });
  const result = await openLoop(receiver, rate, seconds, warmupSeconds, (seq, scheduledAt) => lib.emitter.emit('order.created', payload(seq, { scheduledAt })));
  await lib.close();
  return result;
}

// ------------------------------------------------------------------ matching cost

@WebhookPayload('bench.Order')
class BenchOrder {
  constructor(readonly id: number) {}
}
class BenchSpecialOrder extends BenchOrder {}
class Unrelated {}

export interface MatchingRow {
  subscriptions: number;
  indexedNs: number;
  scanNs: number;
  matches: number;
}

/** Subscriptions of every kind: exact names, `*`, `**`, and payload types, spread over many tenants. */
function patternFor(i: number): { events: string[]; payloadType: string | null | typeof Unrelated } {
  const tenant = `tenant${i % 100_000}`;
  switch (i % 10) {
    case 0:
      return { events: [`${tenant}.*.created`], payloadType: null };
    case 1:
      return { events: [`${tenant}.**`], payloadType: null };
    case 2:
      return { events: [`${tenant}.order.created`], payloadType: 'bench.Order' };
    case 3:
      return { events: [`${tenant}.order.created`], payloadType: Unrelated };
    default:
      return { events: [`${tenant}.order.created`], payloadType: null };
  }
}

/** What a naive implementation does: one compiled regular expression per pattern, tested one by one. */
function toRegExp(pattern: string): RegExp {
  const source = pattern.replace(/\./g, '\\.').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^.]+').replace(/\u0000/g, '.*');
  return new RegExp(`^${source}$`);
}

export async function matching(sizes: number[], iterations: number): Promise<MatchingRow[]> {
  const rows: MatchingRow[] = [];
  for (const size of sizes) {
    const lib = await startLibrary('memory');
    const manager = lib.app.get(WebhookSubscriptionManager);
    const scan: Array<{ patterns: RegExp[]; payloadType: unknown }> = [];
    for (let i = 0; i < size; i++) {
      const { events, payloadType } = patternFor(i);
      // Static-like: the index is what is measured, so skip URL work by creating through the manager once.
      await manager.create({ url: 'http://127.0.0.1:9/hook', events, payloadType: typeof payloadType === 'function' ? null : payloadType });
      scan.push({ patterns: events.map(toRegExp), payloadType });
    }
    const event = 'tenant7.order.created';
    const order = new BenchSpecialOrder(7);
    const matches = manager.activeSubscriptions(event, order).length;
    const time = (fn: () => unknown) => {
      for (let i = 0; i < Math.min(iterations, 1000); i++) fn();
      const started = process.hrtime.bigint();
      for (let i = 0; i < iterations; i++) fn();
      return Number(process.hrtime.bigint() - started) / iterations;
    };
    const indexedNs = time(() => manager.activeSubscriptions(event, order));
    const scanIterations = Math.max(3, Math.floor(iterations / Math.max(1, size / 10)));
    const scanStarted = process.hrtime.bigint();
    for (let i = 0; i < scanIterations; i++) {
      scan.filter((s) => s.patterns.some((p) => p.test(event)) && (s.payloadType === null || s.payloadType === 'bench.Order' || (typeof s.payloadType === 'function' && order instanceof s.payloadType)));
    }
    const scanNs = Number(process.hrtime.bigint() - scanStarted) / scanIterations;
    rows.push({ subscriptions: size, indexedNs, scanNs, matches });
    await lib.close();
  }
  return rows;
}

// ------------------------------------------------------------------ scoped matching

export interface ScopedMatchingRow {
  subscriptions: number;
  scopes: number;
  indexedNs: number;
  matches: number;
}

/**
 * N subscriptions spread over 1,000 tenants and a department of each (`/tenant-T`, `/tenant-T/dept`), each for one of
 * 100 event names, and an event about an order in `/tenant-7/dept`: it visits the indexes of `/`, `/tenant-7` and
 * `/tenant-7/dept`, and matches what subscribed to its name there (one or two), however many subscriptions there are.
 */
export async function scopedMatching(sizes: number[], iterations: number): Promise<ScopedMatchingRow[]> {
  const rows: ScopedMatchingRow[] = [];
  const order = Object.assign(new BenchSpecialOrder(7), { scope: '/tenant-7/dept' });
  for (const size of sizes) {
    const lib = await startLibrary('memory', { scopes: { resolve: (payload) => (payload as { scope?: string }).scope ?? null } });
    const manager = lib.app.get(WebhookSubscriptionManager);
    const scopes = new Set<string>();
    for (let i = 0; i < size; i++) {
      const scope = i % 2 === 0 ? `/tenant-${i % 1000}` : `/tenant-${i % 1000}/dept`;
      scopes.add(scope);
      await manager.create({ url: 'http://127.0.0.1:9/hook', events: [`order${Math.floor(i / 2000) % 100}.created`], scope });
    }
    const event = 'order0.created';
    const matches = manager.activeSubscriptions(event, order).length;
    for (let i = 0; i < Math.min(iterations, 1000); i++) manager.activeSubscriptions(event, order);
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) manager.activeSubscriptions(event, order);
    rows.push({ subscriptions: size, scopes: scopes.size, indexedNs: Number(process.hrtime.bigint() - started) / iterations, matches });
    await lib.close();
  }
  return rows;
}

// ------------------------------------------------------------------ start-up

export interface StartupRow {
  statics: number;
  stored: number;
  readyMs: number;
}

/**
 * How long an application takes to be ready with N static subscriptions (declared in `forRoot`, without ids) and
 * N stored ones (in a SQLite file, written beforehand through the library), from `init()` to ready.
 */
export async function startup(sizes: number[]): Promise<StartupRow[]> {
  const rows: StartupRow[] = [];
  for (const size of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-startup-'));
    const statics = Array.from({ length: size }, (_, i) => ({ url: `http://127.0.0.1:9/static/${i}`, events: ['order.*'], secret: STARTUP_SECRET }));
    const writer = await startLibraryAt(dir, {});
    const store = writer.app.get(WebhookStore);
    const now = new Date();
    for (let i = 0; i < size; i++) {
      const subscription = storedSubscription(`stored-${i}`, now);
      await store.insertSubscription(subscription, { secrets: [{ id: `k${i}`, subscriptionId: subscription.id, secret: STARTUP_SECRET, createdAt: now, expiresAt: null }], headers: {} });
    }
    await writer.close();
    const started = performance.now();
    const reader = await startLibraryAt(dir, { subscriptions: statics });
    const readyMs = performance.now() - started;
    const listed = await reader.app.get(WebhookSubscriptionManager).list();
    if (listed.length !== 2 * size) throw new Error(`start-up bench: ${listed.length} subscriptions, expected ${2 * size}`);
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
    rows.push({ statics: size, stored: size, readyMs });
  }
  return rows;
}

const STARTUP_SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;

function storedSubscription(id: string, now: Date): WebhookSubscription {
  return {
    id, source: 'persistent', url: `http://127.0.0.1:9/stored/${id}`, events: ['order.*'], payloadType: null, scope: null, ownerId: null,
    permission: null, dialect: null, active: true, statusMessage: 'Active', description: null, metadata: {}, headerNames: [],
    retrySchedule: null, attemptLimit: null, preconditionFailureLimit: null, preconditionFailures: 0, failingSince: null, createdAt: now, updatedAt: now, revision: 0,
  };
}

// ------------------------------------------------------------------ fan-out

export interface FanOutRow {
  store: Store;
  subscriptions: number;
  enqueueMs: number;
  lastDeliveryMs: number;
}

export async function fanOut(receiver: Receiver, sizes: number[], concurrency: number, store: Store): Promise<FanOutRow[]> {
  const rows: FanOutRow[] = [];
  for (const size of sizes) {
    const lib = await startLibrary(store, { delivery: { concurrency, perEndpointConcurrency: concurrency, maxQueuedAttempts: 20_000 }, limits: { attemptLimit: 50 } });
    const manager = lib.app.get(WebhookSubscriptionManager);
    for (let i = 0; i < size; i++) await manager.create({ url: `${receiver.url}?s=${i}`, events: ['order.created'] });
    await receiver.reset();
    const started = performance.now();
    await lib.app.get(WebhookPublisher).publish('order.created', payload(1));
    const enqueueMs = performance.now() - started;
    for (;;) {
      const { count } = await receiver.stats();
      if (count >= size) break;
      await sleep(2);
    }
    rows.push({ store, subscriptions: size, enqueueMs, lastDeliveryMs: performance.now() - started });
    await lib.close();
  }
  return rows;
}

// ------------------------------------------------------------------ backlog

export interface BacklogResult {
  attempts: number;
  drainSeconds: number;
  drainRate: number;
  peakRssMb: number;
  startRssMb: number;
  seedSeconds: number;
}

/** Seeds N pending attempts straight into SQLite, then lets the library drain them while sampling RSS. */
export async function backlog(receiver: Receiver, attempts: number, window: Window): Promise<BacklogResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-backlog-'));
  process.env.BENCH_DB_DIR = dir;
  // 1. create the schema and one subscription through the library
  const { startLibraryAt } = await import('./backlog-app.js');
  const setup = await startLibraryAt(dir, { delivery: { worker: false } });
  const { subscription } = await setup.app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] });
  await setup.close();
  // 2. seed the backlog directly
  const seedStarted = performance.now();
  const db = new Database(join(dir, 'bench.sqlite'));
  db.pragma('journal_mode = WAL');
  const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: payload(0) });
  const insert = db.prepare(
    `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, message, payload, dialect, request, response, tries, history, next_attempt_at, lease_owner, lease_expires_at, idempotency_key, internal, created_at, updated_at, claimable_at)
     VALUES (?, ?, ?, 'order.created', 'pending', NULL, ?, 'standard', NULL, NULL, 0, '[]', ?, NULL, NULL, NULL, ?, ?, ?, ?)`,
  );
  const internal = JSON.stringify({ originated: { pid: 0, hostname: 'bench', createdAt: new Date().toISOString(), note: 'seeded' }, exceptionHistory: [] });
  const now = Date.now();
  const seedBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const id = `00000000-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
      insert.run(id, id, subscription.id, body, now, internal, now, now, now);
    }
  });
  for (let i = 0; i < attempts; i += 50_000) seedBatch(i, Math.min(attempts, i + 50_000));
  db.close();
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  // 3. drain
  global.gc?.();
  const startRss = process.memoryUsage().rss;
  let peakRss = startRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  await receiver.reset();
  const started = performance.now();
  const worker = await startLibraryAt(dir, { delivery: { concurrency: window.concurrency, perEndpointConcurrency: window.concurrency, pollIntervalMs: 50 } });
  for (;;) {
    const { count } = await receiver.stats();
    if (count >= attempts) break;
    await sleep(100);
  }
  const drainSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  await worker.close();
  rmSync(dir, { recursive: true, force: true });
  return { attempts, drainSeconds, drainRate: attempts / drainSeconds, peakRssMb: peakRss / 2 ** 20, startRssMb: startRss / 2 ** 20, seedSeconds };
}

export { library };
