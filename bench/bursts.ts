import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { WebhookSubscriptionManager } from 'nest-webhooks';
import { startLibrary, type Store } from './contestants.js';
import { payload, type Receiver, sleep } from './harness.js';
import type { BenchPostgres } from './postgres-database.js';

/** Endpoints the bursts go to (the receiver's ports): events are spread over them, so two workers can share the work. */
export const SHARDS = 4;

export interface BurstSettings {
  /** Requests in flight at once, in all (each endpoint gets an equal part). */
  concurrency: number;
}

/** Waits until the receiver has had `count` requests since its reset; returns when (performance.now()). */
async function drained(receiver: Receiver, count: number, timeoutMs = 300_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if ((await receiver.stats()).count >= count) return performance.now();
    if (performance.now() > deadline) throw new Error(`burst not drained: ${(await receiver.stats()).count} of ${count}`);
    await sleep(5);
  }
}

/** The physical limit: `count` signed-size POSTs spread over the endpoints, `concurrency` in flight. Deliveries/s. */
export async function rawBurst(receiver: Receiver, count: number, settings: BurstSettings): Promise<number> {
  const perEndpoint = Math.ceil(settings.concurrency / SHARDS);
  const targets = receiver.urls.slice(0, SHARDS).map((url) => ({ url: new URL(url), pool: new Pool(new URL(url).origin, { connections: perEndpoint, pipelining: 1 }) }));
  await receiver.reset();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: perEndpoint * SHARDS }, async (_, lane) => {
      const target = targets[lane % SHARDS]!;
      while (next < count) {
        const seq = next++;
        const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: payload(seq) });
        const response = await target.pool.request({ path: target.url.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await response.body.dump();
      }
    }),
  );
  const rate = count / ((performance.now() - started) / 1000);
  await Promise.all(targets.map((t) => t.pool.close()));
  return rate;
}

/** One process publishes and delivers: `count` events emitted in one synchronous loop. Deliveries/s until the last arrived. */
export async function libraryBurst(receiver: Receiver, count: number, store: Store, settings: BurstSettings, registryChecks = true): Promise<number> {
  const lib = await startLibrary(
    store,
    { delivery: { concurrency: settings.concurrency, perEndpointConcurrency: Math.ceil(settings.concurrency / SHARDS) } },
    { registryChecks },
  );
  const manager = lib.app.get(WebhookSubscriptionManager);
  for (let shard = 0; shard < SHARDS; shard++) await manager.create({ url: receiver.urls[shard]!, events: [`shard${shard}.**`] });
  await receiver.reset();
  const started = performance.now();
  for (let i = 0; i < count; i++) lib.emitter.emit(`shard${i % SHARDS}.order.created`, payload(i));
  const rate = count / ((await drained(receiver, count)) - started) * 1000;
  await lib.close();
  return rate;
}

/** A forked process of the deployment, and a way to talk to it. */
class Replica {
  private constructor(private readonly child: ChildProcess) {}

  static async start(role: 'api' | 'worker', database: string, settings: BurstSettings): Promise<Replica> {
    const child = fork(fileURLToPath(new URL('./replica-process.js', import.meta.url)), [], {
      env: { ...process.env, ROLE: role, DATABASE: database, CONCURRENCY: String(settings.concurrency), PER_ENDPOINT: String(Math.ceil(settings.concurrency / SHARDS)) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const replica = new Replica(child);
    await replica.next('ready');
    return replica;
  }

  send(message: object, answer: string): Promise<void> {
    const done = this.next(answer);
    this.child.send(message);
    return done;
  }

  /** CPU time the process used so far (user + system), in microseconds. */
  async cpu(): Promise<number> {
    const answer = new Promise<number>((resolve) => {
      const onMessage = (message: { type: string; micros?: number }) => {
        if (message.type !== 'cpu-usage') return;
        this.child.off('message', onMessage);
        resolve(message.micros!);
      };
      this.child.on('message', onMessage);
    });
    this.child.send({ type: 'cpu' });
    return answer;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'stop' });
    await Promise.race([exited, sleep(10_000).then(() => this.child.kill('SIGKILL'))]);
  }

  private next(type: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: { type: string }) => {
        if (message.type !== type) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve();
      };
      const onExit = (code: number | null) => reject(new Error(`replica exited with ${code} before ${type}`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

/**
 * An API process (`delivery.worker: false`) emits `count` events at once; `workers` worker processes deliver them.
 * Deliveries/s from the burst to the last arrival. The processes share the machine's cores with the receiver (and
 * the PostgreSQL server).
 */
/** A replicated burst: its rate, and the CPU each role spent per delivery (µs). */
export interface ReplicaBurstResult {
  rate: number;
  apiCpuPerDelivery: number;
  workerCpuPerDelivery: number;
}

export async function replicaBurst(
  receiver: Receiver,
  count: number,
  store: 'sqlite' | 'postgres',
  workers: number,
  settings: BurstSettings,
  postgres: BenchPostgres | null,
): Promise<ReplicaBurstResult> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-replicas-'));
  const database = store === 'postgres' ? await postgres!.freshDatabase() : join(dir, 'bench.sqlite');
  const replicas: Replica[] = [];
  try {
    const api = await Replica.start('api', database, settings);
    replicas.push(api);
    await api.send({ type: 'setup', urls: receiver.urls.slice(0, SHARDS) }, 'setup-done');
    for (let i = 0; i < workers; i++) replicas.push(await Replica.start('worker', database, settings));
    await sleep(300); // workers' first poll and endpoint leases settled
    const cpuBefore = await Promise.all(replicas.map((r) => r.cpu()));
    await receiver.reset();
    const started = performance.now();
    await api.send({ type: 'burst', count }, 'emitted');
    const rate = (count / ((await drained(receiver, count)) - started)) * 1000;
    const cpuAfter = await Promise.all(replicas.map((r) => r.cpu()));
    const spent = cpuAfter.map((after, i) => (after - cpuBefore[i]!) / count);
    return { rate, apiCpuPerDelivery: spent[0]!, workerCpuPerDelivery: spent.slice(1).reduce((a, b) => a + b, 0) };
  } finally {
    for (const replica of replicas) await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
