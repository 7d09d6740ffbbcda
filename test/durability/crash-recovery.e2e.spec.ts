import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { DATABASE_STORES } from '../support/webhooks-app.js';

const WORKER = fileURLToPath(new URL('../fixtures/apps/durable-worker.mjs', import.meta.url));
const CA_FILE = fileURLToPath(new URL('../fixtures/tls/ca.pem', import.meta.url));
const SECRET = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;
const COUNT = 400;
const CONCURRENCY = 16;
const HOLD_MS = 60;
/** Committed events before the receiver starts answering. */
const BACKLOG = 200;

function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<void> } {
  const child = spawn(process.execPath, [WORKER], { env: { ...process.env, CA_FILE, SECRET, CONCURRENCY: String(CONCURRENCY), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, output: () => output, exited };
}

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(DATABASE_STORES)('crash safety: SIGKILL while hundreds of deliveries are queued or in flight (%s)', (kind) => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('after a restart every committed event arrives (0 lost); duplicates are only in-flight ones, with the same webhook-id', async () => {
    const database: TestDatabase = await createTestDatabase(kind);
    cleanups.push(() => database.drop());
    let inFlight = 0;
    let inFlightAtKill = -1;
    // The receiver holds its answers until a backlog is committed (publishing is slower on some databases than
    // delivering), so that hundreds of events are queued or in flight when the process is killed.
    let backlogCommitted = false;
    const held: Array<() => void> = [];
    const receiver = await TestReceiver.start({
      responder: (_request, res) => {
        inFlight++;
        const answer = () =>
          void setTimeout(() => {
            inFlight--;
            res.writeHead(200).end();
          }, HOLD_MS);
        if (backlogCommitted) answer();
        else held.push(answer);
      },
    });
    cleanups.push(() => receiver.close());
    const committedRows = async () => {
      try {
        return Number((await database.query('SELECT COUNT(*) AS n FROM crash_event'))[0]!.n);
      } catch {
        return 0; // the worker has not created its table yet
      }
    };

    const first = startWorker({ DATABASE_URL: database.url, RECEIVER_URL: `${receiver.url}/crash`, MODE: 'publish', COUNT: String(COUNT) });
    cleanups.push(() => first.child.kill('SIGKILL'));
    const deadline = Date.now() + 60_000;
    for (let rows = 0; rows < BACKLOG; rows = await committedRows()) {
      if (first.child.exitCode !== null) throw new Error(`the publish worker exited:\n${first.output()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${BACKLOG} committed events (${rows} so far):\n${first.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    backlogCommitted = true;
    held.splice(0).forEach((answer) => answer());
    await until(() => receiver.requests.length >= 80, 'the first deliveries');
    first.child.kill('SIGKILL');
    inFlightAtKill = inFlight;
    await first.exited;
    const receivedBeforeRestart = receiver.requests.length;

    // What the dead process committed, read on a connection of the test's own (COUNT is a bigint string on PostgreSQL).
    const committed = (await database.query('SELECT seq FROM crash_event ORDER BY seq')).map((r) => Number(r.seq));
    const count = async (sql: string) => Number((await database.query(sql))[0]!.n);
    const pendingAtCrash = await count("SELECT COUNT(*) AS n FROM webhook_attempt WHERE status = 'pending'");
    const attemptRows = await count('SELECT COUNT(*) AS n FROM webhook_attempt');
    // Outbox atomicity under a crash: exactly one attempt row per committed business row.
    expect(attemptRows).toBe(committed.length);
    expect(committed.length).toBeGreaterThan(receivedBeforeRestart);
    expect(pendingAtCrash).toBeGreaterThanOrEqual(100); // hundreds queued or in flight at the kill

    const second = startWorker({ DATABASE_URL: database.url, RECEIVER_URL: `${receiver.url}/crash`, MODE: 'resume' });
    cleanups.push(() => second.child.kill('SIGKILL'));
    const seqOf = (body: string) => (JSON.parse(body) as { data: { seq: number } }).data.seq;
    await until(() => new Set(receiver.requests.map((r) => seqOf(r.body))).size >= committed.length, 'every committed event after restart');
    await new Promise((resolve) => setTimeout(resolve, 500)); // let stragglers arrive before counting duplicates

    const bySeq = new Map<number, string[]>();
    for (const request of receiver.requests) {
      new Webhook(SECRET).verify(request.body, request.headers);
      const seq = seqOf(request.body);
      bySeq.set(seq, [...(bySeq.get(seq) ?? []), request.headers['webhook-id']!]);
    }
    const lost = committed.filter((seq) => !bySeq.has(seq));
    expect(lost).toEqual([]);
    const duplicated = [...bySeq.entries()].filter(([, ids]) => ids.length > 1);
    // A duplicate is an event whose request was in flight when the process died (sent, not yet recorded).
    expect(duplicated.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(inFlightAtKill).toBeLessThanOrEqual(CONCURRENCY);
    for (const [, ids] of duplicated) expect(new Set(ids).size).toBe(1);
    console.info(
      `crash (${kind}): committed ${committed.length}, pending at kill ${pendingAtCrash}, received before restart ${receivedBeforeRestart}, ` +
        `in flight at kill ${inFlightAtKill}, lost ${lost.length}, duplicated ${duplicated.length}`,
    );
    for (const seq of bySeq.keys()) expect(committed).toContain(seq);
  }, 120_000);
});
