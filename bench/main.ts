import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { libraryBurst, rawBurst, replicaBurst, SHARDS } from './bursts.js';
import { library, peerNestListener, peerNodeWebhooks, rawAxios, rawUndici, usePostgres, type Window } from './contestants.js';
import { interleaved, median, startReceiver } from './harness.js';
import { BenchPostgres } from './postgres-database.js';
import { type BacklogResult, fanOut, latencyLibrary, latencyRaw, matching, scopedMatching, startup } from './sections.js';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Receiver } from './harness.js';

/** Runs the backlog section in a fresh process (its RSS is then the library's alone), relaying receiver calls. */
function backlogInOwnProcess(receiver: Receiver, attempts: number, concurrency: number): Promise<BacklogResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./backlog-main.js', import.meta.url)), [receiver.url, String(attempts), String(concurrency)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.on('message', async (message: { type: string; result?: BacklogResult }) => {
      if (message.type === 'result') resolve(message.result!);
      else if (message.type === 'reset') {
        await receiver.reset();
        child.send({ type: 'reset-done' });
      }
      else if (message.type === 'stats') child.send(await receiver.stats());
    });
    child.on('exit', (code) => (code === 0 ? undefined : reject(new Error(`backlog process exited with ${code}`))));
  });
}

const quick = process.argv.includes('--quick');
const require = createRequire(import.meta.url);
const lines: string[] = [];
const log = (line = '') => {
  console.log(line);
  lines.push(line);
};
const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');
const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');

async function main(): Promise<void> {
  const started = Date.now();
  const concurrency = 64;
  // Five shorter rounds rather than three long ones: on a shared machine a round's figures move by ±15 %, and
  // the median of five per-round ratios moves less than the median of three.
  const window: Window = quick ? { warmupMs: 500, durationMs: 1500, concurrency } : { warmupMs: 1000, durationMs: 4000, concurrency };
  const rounds = quick ? 1 : 5;
  const receiver = await startReceiver();
  const postgres = await BenchPostgres.start();
  usePostgres(postgres);
  const sqliteVersion = (require('better-sqlite3') as typeof import('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get() as { v: string };

  log(`# nest-webhooks benchmark${quick ? ' (--quick)' : ''}`);
  log('');
  log(`Command: \`npm run bench${quick ? ' -- --quick' : ''}\` · ${new Date().toISOString()}`);
  log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB · Node ${process.version} · undici ${require('undici/package.json').version} · axios ${require('axios/package.json').version} · SQLite ${sqliteVersion.v} (WAL, 8 KiB pages; application connection synchronous=FULL, the store's own connection NORMAL)`);
  log(`PostgreSQL: ${postgres ? 'a throwaway local cluster of the Debian package (fsync=off, as in the tests), a new database per run' : 'not installed: its contestants are left out'}.`);
  log(`Receiver: node:http keep-alive in its own process, 200 with an empty body. Payload: 1 KB JSON, Standard Webhooks headers signed per request. Concurrency ${concurrency} for every contestant (connections and requests in flight); the library contestants keep ${concurrency * 2} events outstanding (emitted, not yet resolved), each resolved attempt letting the next one be emitted.`);
  log('');

  // 1. throughput
  log('## Throughput at saturation (deliveries/s; median of interleaved rounds; ratio to raw undici of the same round)');
  const contestants: Record<string, () => Promise<number>> = {
    'raw undici': () => rawUndici(receiver, window),
    'raw axios': () => rawAxios(receiver, window),
    'library, memory store': () => library(receiver, window, 'memory'),
    'library, memory store, metrics on': () => library(receiver, window, 'memory', {}, { observed: 'metrics' }),
    'library, memory store, tracing SDK on': () => library(receiver, window, 'memory', {}, { observed: 'tracing' }),
    'library, SQLite store': () => library(receiver, window, 'sqlite'),
    'library, SQLite store, registry checks off': () => library(receiver, window, 'sqlite', {}, { registryChecks: false }),
    ...(postgres
      ? {
          'library, PostgreSQL store': () => library(receiver, window, 'postgres'),
          'library, PostgreSQL store, registry checks off': () => library(receiver, window, 'postgres', {}, { registryChecks: false }),
        }
      : {}),
    'library, memory store, sending thread': () => library(receiver, window, 'memory', { delivery: { transport: 'undici-thread' } }),
    'library, SQLite store, sending thread': () => library(receiver, window, 'sqlite', { delivery: { transport: 'undici-thread' } }),
    'peer: hand-written Nest listener': () => peerNestListener(receiver, window),
    'peer: node-webhooks': () => peerNodeWebhooks(receiver, window),
  };
  const results = await interleaved(rounds, contestants, (line) => console.log(line));
  log('');
  log('| contestant | deliveries/s | ratio to raw undici | ratio in each round |');
  log('|---|---:|---:|---|');
  const raw = results['raw undici'];
  for (const [name, values] of Object.entries(results)) {
    const ratios = values.map((v, i) => v / raw[i]!);
    log(`| ${name} | ${fmt(median(values))} | ${median(ratios).toFixed(2)} | ${ratios.map((r) => r.toFixed(2)).join(', ')} |`);
  }
  const rawCeiling = median(raw);
  log('');
  log('What several processes sharing a database cost one process (the registry version checked by each outbox write and before each try, endpoint leases): throughput with the checks ÷ without, per round.');
  log('');
  log('| store | with ÷ without (median) | each round |');
  log('|---|---:|---|');
  for (const store of ['SQLite', ...(postgres ? ['PostgreSQL'] : [])]) {
    const on = results[`library, ${store} store`]!;
    const off = results[`library, ${store} store, registry checks off`]!;
    const ratios = on.map((v, i) => v / off[i]!);
    log(`| ${store} | ${median(ratios).toFixed(3)} | ${ratios.map((r) => r.toFixed(3)).join(', ')} |`);
  }
  log('');
  const cost = (name: string) => results[`library, memory store, ${name}`]!.map((v, i) => v / results['library, memory store']![i]!);
  const [metricsCost, tracingCost] = [cost('metrics on'), cost('tracing SDK on')];
  log(
    `What observing costs, memory store, with ÷ without: \`WebhooksMetricsModule\` ${median(metricsCost).toFixed(3)} (${metricsCost.map((r) => r.toFixed(3)).join(', ')}); ` +
      `a tracing SDK (batched spans dropped by its exporter, AsyncLocalStorage context) ${median(tracingCost).toFixed(3)} (${tracingCost.map((r) => r.toFixed(3)).join(', ')}).`,
  );
  log('');

  // 2. latency at 50 % of the raw ceiling (the goal's load), and at 50 % of each store's own ceiling
  const rate = Math.round(rawCeiling / 2);
  const seconds = quick ? 2 : 8;
  const warmupSeconds = quick ? 1 : 2;
  log(`## Emit-to-receive latency under a constant offered load, from the scheduled emit time`);
  log('');
  log(`At ${fmt(rate)} events/s (50 % of the raw ceiling), and at 50 % of each library store's own saturation throughput; ${warmupSeconds} s of the same load first, not timed, then ${seconds} s timed:`);
  log('');
  log('| sender | offered events/s | p50 ms | p99 ms | delivered in time / offered |');
  log('|---|---:|---:|---:|---:|');
  const memoryRate = Math.round(median(results['library, memory store']) / 2);
  const sqliteRate = Math.round(median(results['library, SQLite store']) / 2);
  for (const [name, offered, run] of [
    ['raw undici', rate, () => latencyRaw(receiver, rate, seconds, warmupSeconds, concurrency)],
    ['library, memory store', rate, () => latencyLibrary(receiver, rate, seconds, warmupSeconds, concurrency, 'memory')],
    ['library, SQLite store', rate, () => latencyLibrary(receiver, rate, seconds, warmupSeconds, concurrency, 'sqlite')],
    ['library, memory store, sending thread', rate, () => latencyLibrary(receiver, rate, seconds, warmupSeconds, concurrency, 'memory', 'undici-thread')],
    ['library, SQLite store, sending thread', rate, () => latencyLibrary(receiver, rate, seconds, warmupSeconds, concurrency, 'sqlite', 'undici-thread')],
    ['library, memory store', memoryRate, () => latencyLibrary(receiver, memoryRate, seconds, warmupSeconds, concurrency, 'memory')],
    ['library, SQLite store', sqliteRate, () => latencyLibrary(receiver, sqliteRate, seconds, warmupSeconds, concurrency, 'sqlite')],
  ] as const) {
    const r = await run();
    log(`| ${name} | ${fmt(offered)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.delivered)} / ${fmt(r.offered)} |`);
  }
  log('');

  // 3. matching
  log('## Matching cost per event (exact names, `*`, `**`, payload types; event `tenant7.order.created`)');
  log('');
  log('| subscriptions | indexed ns/event | linear scan ns/event | matches | indexed ÷ indexed at 10 |');
  log('|---:|---:|---:|---:|---:|');
  const rows = await matching(quick ? [10, 100, 1_000, 10_000] : [10, 100, 1_000, 10_000, 100_000], quick ? 20_000 : 100_000);
  for (const row of rows) log(`| ${fmt(row.subscriptions)} | ${fmt(row.indexedNs)} | ${fmt(row.scanNs)} | ${row.matches} | ${ratio(row.indexedNs, rows[0]!.indexedNs)} |`);
  log('');
  log('Scoped: subscriptions spread over 1,000 tenants and a department of each, for 100 event names; an event about an order in `/tenant-7/dept` visits the indexes on its lineage only (`/`, `/tenant-7`, `/tenant-7/dept`).');
  log('');
  log('| subscriptions | scopes | indexed ns/event | matches | ÷ at 10 |');
  log('|---:|---:|---:|---:|---:|');
  const scoped = await scopedMatching(quick ? [10, 1_000, 10_000] : [10, 1_000, 10_000, 100_000], quick ? 20_000 : 100_000);
  for (const row of scoped) log(`| ${fmt(row.subscriptions)} | ${fmt(row.scopes)} | ${fmt(row.indexedNs)} | ${row.matches} | ${ratio(row.indexedNs, scoped[0]!.indexedNs)} |`);
  log('');
  log('Start-up: N static subscriptions (no ids, numbered `Subscription`, `Subscription-2`, …) and N stored ones (SQLite), from `init()` to ready.');
  log('');
  log('| static | stored | ready ms | ms per 1,000 |');
  log('|---:|---:|---:|---:|');
  for (const row of await startup(quick ? [1_000, 10_000] : [1_000, 10_000, 100_000])) {
    log(`| ${fmt(row.statics)} | ${fmt(row.stored)} | ${fmt(row.readyMs)} | ${fmt((row.readyMs / (row.statics + row.stored)) * 1000, 1)} |`);
  }
  log('');

  // 4. fan-out
  log('## Fan-out: one event to N subscriptions');
  log('');
  log('| store | subscriptions | durable enqueue ms | last delivery ms |');
  log('|---|---:|---:|---:|');
  for (const store of ['memory', 'sqlite'] as const) {
    for (const row of await fanOut(receiver, quick ? [1, 100, 1_000] : [1, 100, 10_000], concurrency, store)) {
      log(`| ${row.store} | ${fmt(row.subscriptions)} | ${fmt(row.enqueueMs, 1)} | ${fmt(row.lastDeliveryMs, 1)} |`);
    }
  }
  log('');

  // 5. bursts, and replicas
  const burstConcurrency = 48;
  const burstSizes = quick ? [5_000] : [20_000, 40_000];
  log(`## Bursts: N events emitted at once, spread over ${SHARDS} endpoints, ${burstConcurrency} requests in flight`);
  log('');
  log(
    'Deliveries/s from the first emit to the last arrival. One process does everything, or an API process (`delivery.worker: false`) writes the attempts and worker processes claim and send them; all of them share the 2 cores with the receiver and the database server. Raw undici sends the same number of requests, run before and after the others (ratio to their mean).',
  );
  log('');
  log('| N | sender | deliveries/s | ratio to raw undici |');
  log('|---:|---|---:|---:|');
  const settings = { concurrency: burstConcurrency };
  const cpuNotes: string[] = [];
  const replica = async (count: number, store: 'sqlite' | 'postgres', workers: number) => {
    const r = await replicaBurst(receiver, count, store, workers, settings, postgres);
    cpuNotes.push(`| ${fmt(count)} | ${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${workers} worker${workers > 1 ? 's' : ''} | ${fmt(r.apiCpuPerDelivery, 1)} | ${fmt(r.workerCpuPerDelivery, 1)} |`);
    return r.rate;
  };
  for (const count of burstSizes) {
    const burst: Array<[string, () => Promise<number>]> = [
      ['one process, memory store', () => libraryBurst(receiver, count, 'memory', settings)],
      ['one process, SQLite store', () => libraryBurst(receiver, count, 'sqlite', settings)],
      ...(postgres ? ([['one process, PostgreSQL store', () => libraryBurst(receiver, count, 'postgres', settings)]] as Array<[string, () => Promise<number>]>) : []),
      ['API + 1 worker, SQLite', () => replica(count, 'sqlite', 1)],
      ['API + 2 workers, SQLite', () => replica(count, 'sqlite', 2)],
      ...(postgres
        ? ([
            ['API + 1 worker, PostgreSQL', () => replica(count, 'postgres', 1)],
            ['API + 2 workers, PostgreSQL', () => replica(count, 'postgres', 2)],
          ] as Array<[string, () => Promise<number>]>)
        : []),
    ];
    const before = await rawBurst(receiver, count, settings);
    const measured: Array<[string, number]> = [];
    for (const [name, run] of burst) {
      const rate = await run();
      console.log(`  burst ${count} ${name}: ${rate.toFixed(0)}/s`);
      measured.push([name, rate]);
    }
    const after = await rawBurst(receiver, count, settings);
    const rawRate = (before + after) / 2;
    log(`| ${fmt(count)} | raw undici (before, after) | ${fmt(rawRate)} (${fmt(before)}, ${fmt(after)}) | 1.00 |`);
    for (const [name, rate] of measured) log(`| ${fmt(count)} | ${name} | ${fmt(rate)} | ${ratio(rate, rawRate)} |`);
  }
  log('');
  log('CPU time of the replicated bursts per delivery (user + system, µs), by role; the workers summed:');
  log('');
  log('| N | store, workers | API process | worker processes |');
  log('|---:|---|---:|---:|');
  for (const note of cpuNotes) log(note);
  log('');

  // 6. backlog
  const backlogSize = quick ? 20_000 : 1_000_000;
  log(`## Backlog: ${fmt(backlogSize)} pending attempts in SQLite`);
  log('');
  const b = await backlogInOwnProcess(receiver, backlogSize, concurrency);
  const sqliteThroughput = median(results['library, SQLite store']);
  log(`| seeded in | drained in | drain rate /s | drain ÷ SQLite saturation throughput | RSS before | peak RSS while draining |`);
  log('|---:|---:|---:|---:|---:|---:|');
  log(`| ${fmt(b.seedSeconds, 1)} s | ${fmt(b.drainSeconds, 1)} s | ${fmt(b.drainRate)} | ${ratio(b.drainRate, sqliteThroughput)} | ${fmt(b.startRssMb)} MB | ${fmt(b.peakRssMb)} MB |`);
  log('');
  log(`Total run time: ${fmt((Date.now() - started) / 1000)} s.`);

  receiver.stop();
  await postgres?.stop();
  if (!quick || process.argv.includes('--write')) writeFileSync(new URL('../../docs/benchmarks.md', import.meta.url), `${lines.join('\n')}\n`);
  void execSync;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
