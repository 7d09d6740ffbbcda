import { execSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { createRequire } from 'node:module';
import { library, peerNestListener, peerNodeWebhooks, rawAxios, rawUndici, type Window } from './contestants.js';
import { interleaved, median, startReceiver } from './harness.js';
import { type BacklogResult, fanOut, latencyLibrary, latencyRaw, matching } from './sections.js';
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
  const sqliteVersion = (require('better-sqlite3') as typeof import('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get() as { v: string };

  log(`# nest-webhooks benchmark${quick ? ' (--quick)' : ''}`);
  log('');
  log(`Command: \`npm run bench${quick ? ' -- --quick' : ''}\` · ${new Date().toISOString()}`);
  log(`Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, ${fmt(totalmem() / 2 ** 30, 1)} GiB · Node ${process.version} · undici ${require('undici/package.json').version} · axios ${require('axios/package.json').version} · SQLite ${sqliteVersion.v} (WAL, 8 KiB pages; application connection synchronous=FULL, the store's own connection NORMAL)`);
  log(`Receiver: node:http keep-alive in its own process, 200 with an empty body. Payload: 1 KB JSON, Standard Webhooks headers signed per request. Concurrency ${concurrency} for every contestant (connections and requests in flight); the library contestants keep ${concurrency * 2} events outstanding (emitted, not yet resolved), each resolved attempt letting the next one be emitted.`);
  log('');

  // 1. throughput
  log('## Throughput at saturation (deliveries/s; median of interleaved rounds; ratio to raw undici of the same round)');
  const results = await interleaved(
    rounds,
    {
      'raw undici': () => rawUndici(receiver, window),
      'raw axios': () => rawAxios(receiver, window),
      'library, memory store': () => library(receiver, window, 'memory'),
      'library, SQLite store': () => library(receiver, window, 'sqlite'),
      'library, memory store, sending thread': () => library(receiver, window, 'memory', { delivery: { transport: 'undici-thread' } }),
      'library, SQLite store, sending thread': () => library(receiver, window, 'sqlite', { delivery: { transport: 'undici-thread' } }),
      'peer: hand-written Nest listener': () => peerNestListener(receiver, window),
      'peer: node-webhooks': () => peerNodeWebhooks(receiver, window),
    },
    (line) => console.log(line),
  );
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

  // 5. backlog
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
