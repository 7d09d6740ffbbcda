import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBin, type PostgresCluster, startPostgresCluster } from '../support/postgres-cluster.js';
import { ChaosReceiver, Cluster, placeOrders, sleep, tally, type Tally, until } from './cluster.js';

/** The example app's default `perEndpointConcurrency`: the most requests one worker has on the wire to the receiver. */
const ON_THE_WIRE = 8;

function report(name: string, t: Tally, extra: Record<string, number | string> = {}): void {
  const figures = Object.entries({
    committed: t.committed,
    delivered: t.delivered,
    lost: t.lost.length,
    duplicated: t.duplicated,
    'duplicates with another webhook-id': t.differentIds,
    unsigned: t.unsigned,
    unverified: t.unverified,
    ...extra,
  })
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.info(`chaos ${name}: ${figures}`);
}

/**
 * Real processes on a real PostgreSQL server of the test's own: two API processes (`WEBHOOKS_ROLE=api`) take
 * orders, two workers (`WEBHOOKS_ROLE=worker`) deliver, and the test breaks things while orders come in (the workers
 * run with a 3 s lease: how long a killed worker's attempts wait). Every
 * committed order (a row in `example_order`, whatever the HTTP answer said) must arrive, signed; duplicates only
 * for tries on the wire when something died, with the same `webhook-id`.
 */
describe.skipIf(!postgresBin())('chaos: 2 API processes and 2 workers on one PostgreSQL database', () => {
  let pg: PostgresCluster;
  let cluster: Cluster;
  let receiver: ChaosReceiver;
  let reader: DataSource;

  beforeAll(async () => {
    pg = await startPostgresCluster();
    receiver = await ChaosReceiver.start();
    cluster = await Cluster.start(pg.url, { apis: 2, workers: 2 });
    reader = await new DataSource({ type: 'postgres', url: pg.url, extra: { max: 1 } }).initialize();
  }, 120_000);

  afterAll(async () => {
    // A process that died on its own: its output says why.
    for (const member of [...(cluster?.apis ?? []), ...(cluster?.workers ?? [])]) {
      if (member.process.exitCode !== null) console.error(`a process exited (${member.process.exitCode}):\n${member.process.output().slice(-3000)}`);
    }
    await reader?.destroy();
    await cluster?.stop();
    await receiver?.close();
    await pg?.stop();
  });

  /** Orders of a scenario that are in the database: the committed events, whatever the HTTP answers said. */
  async function committed(prefix: string): Promise<string[]> {
    for (;;) {
      try {
        return ((await reader.query('SELECT id FROM example_order WHERE item LIKE $1', [`${prefix}-%`])) as Array<{ id: string }>).map((r) => r.id);
      } catch {
        await sleep(200); // the server is restarting, or this connection was cut
      }
    }
  }

  async function subscribe(path: string): Promise<string> {
    const { status, body } = await cluster.request(0, 'POST', '/webhooks/subscriptions', { url: receiver.url(path), events: ['order.created'] });
    expect(status).toBe(201);
    receiver.secrets.set(path, body.secret);
    return body.id;
  }

  async function unsubscribe(id: string): Promise<void> {
    expect((await cluster.request(0, 'DELETE', `/webhooks/subscriptions/${id}`)).status).toBe(204);
  }

  /** Waits until every committed order of the scenario arrived on `path`, then a little more for stragglers. */
  async function settle(prefix: string, path: string): Promise<Tally> {
    const ids = await committed(prefix);
    await until(() => tally(receiver, ids, path).lost.length === 0, `every committed ${prefix} event on ${path}`, 90_000);
    await sleep(500);
    return tally(receiver, ids, path);
  }

  function expectSafe(t: Tally, duplicatesAtMost: number): void {
    expect(t.lost).toEqual([]);
    expect(t.committed).toBeGreaterThan(0);
    expect(t.differentIds).toBe(0);
    expect(t.duplicated).toBeLessThanOrEqual(duplicatesAtMost);
    expect(t.unsigned).toBe(0);
    expect(t.unverified).toBe(0);
  }

  it('SIGKILL of a worker mid-load: every committed event arrives; duplicates only for its tries on the wire', async () => {
    const subscription = await subscribe('/kill');
    receiver.holdMs = 30;
    const load = placeOrders(cluster, 'kill', 400);
    await until(() => receiver.received('/kill').size >= 100, 'the first 100 deliveries');
    // The worker that serves the receiver's endpoint (one worker at a time does): its id holds its pid.
    const [lease] = (await reader.query('SELECT worker_id FROM webhook_endpoint_lease')) as Array<{ worker_id: string }>;
    const victimIndex = cluster.workers.findIndex((w) => w.process.pid === Number(lease!.worker_id.split(':')[1]));
    expect(victimIndex).toBeGreaterThanOrEqual(0);
    const [victim] = cluster.workers.splice(victimIndex, 1);
    const inFlightAtKill = receiver.inFlight;
    const killedAt = Date.now();
    victim!.process.kill('SIGKILL');
    await victim!.process.exit;
    const deliveredAtKill = receiver.received('/kill').size;
    await until(() => receiver.arrivals.some((a) => a.at > killedAt + 100 && a.path === '/kill'), 'deliveries after the kill', 30_000);
    const resumedAfterMs = receiver.arrivals.find((a) => a.at > killedAt + 100 && a.path === '/kill')!.at - killedAt;
    const orders = await load;
    receiver.holdMs = 0;
    const t = await settle('kill', '/kill');
    report('SIGKILL worker', t, { 'orders refused': orders.filter((o) => o.status !== 201).length, 'in flight at kill': inFlightAtKill, 'delivered at kill': deliveredAtKill, 'resumed after ms': resumedAfterMs });
    expectSafe(t, 2 * ON_THE_WIRE);
    await unsubscribe(subscription);
    await cluster.add('worker');
  }, 150_000);

  it('SIGTERM of a worker mid-load: it hands its claims and its endpoint back as it exits', async () => {
    const subscription = await subscribe('/term');
    receiver.holdMs = 30;
    const load = placeOrders(cluster, 'term', 300);
    await until(() => receiver.received('/term').size >= 60, 'the first 60 deliveries');
    const [lease] = (await reader.query('SELECT worker_id FROM webhook_endpoint_lease')) as Array<{ worker_id: string }>;
    const pid = Number(lease!.worker_id.split(':')[1]);
    const victimIndex = cluster.workers.findIndex((w) => w.process.pid === pid);
    const [victim] = cluster.workers.splice(victimIndex, 1);
    victim!.process.kill('SIGTERM');
    expect(await victim!.process.exit).toBe('SIGTERM');
    // Graceful: nothing of it is left in the database for the lease to expire.
    const held = (await reader.query("SELECT count(*)::int AS n FROM webhook_attempt WHERE status = 'pending' AND lease_owner = $1", [lease!.worker_id])) as Array<{ n: number }>;
    const endpoints = (await reader.query('SELECT count(*)::int AS n FROM webhook_endpoint_lease WHERE worker_id = $1', [lease!.worker_id])) as Array<{ n: number }>;
    const orders = await load;
    receiver.holdMs = 0;
    const t = await settle('term', '/term');
    report('SIGTERM worker', t, { 'orders refused': orders.filter((o) => o.status !== 201).length, 'claims left by it': held[0]!.n, 'endpoints left by it': endpoints[0]!.n });
    expect(held[0]!.n).toBe(0);
    expect(endpoints[0]!.n).toBe(0);
    expectSafe(t, 0);
    await unsubscribe(subscription);
    await cluster.add('worker');
  }, 150_000);

  it('pg_ctl restart of the database mid-load: every committed event arrives, signed', async () => {
    const subscription = await subscribe('/restart');
    const load = placeOrders(cluster, 'restart', 400, { concurrency: 4 });
    await until(() => receiver.received('/restart').size >= 80, 'the first 80 deliveries');
    const restartStarted = Date.now();
    await pg.restart();
    const restartMs = Date.now() - restartStarted;
    const orders = await load;
    const t = await settle('restart', '/restart');
    report('pg_ctl restart', t, { 'orders refused': orders.filter((o) => o.status !== 201).length, 'restart took ms': restartMs });
    expectSafe(t, 4 * ON_THE_WIRE);
    await unsubscribe(subscription);
  }, 150_000);

  it('a pg_terminate_backend storm: every committed event arrives, signed', async () => {
    const subscription = await subscribe('/storm');
    let storming = true;
    let terminated = 0;
    let rounds = 0;
    const load = placeOrders(cluster, 'storm', 400, { concurrency: 4 });
    await until(() => receiver.received('/storm').size >= 50, 'the first 50 deliveries');
    const storm = (async () => {
      while (storming) {
        terminated += await pg.terminateBackends().catch(() => 0);
        rounds++;
        await sleep(100);
      }
    })();
    await sleep(2000);
    storming = false;
    await storm;
    const orders = await load;
    const t = await settle('storm', '/storm');
    report('terminate storm', t, { 'orders refused': orders.filter((o) => o.status !== 201).length, 'backends terminated': terminated, rounds });
    expectSafe(t, 4 * ON_THE_WIRE);
    await unsubscribe(subscription);
  }, 150_000);

  it('the receiver down for 2 s: every committed event arrives once it is back', async () => {
    const subscription = await subscribe('/down');
    const load = placeOrders(cluster, 'down', 300, { concurrency: 4 });
    await until(() => receiver.received('/down').size >= 60, 'the first 60 deliveries');
    await receiver.down();
    await sleep(2000);
    await receiver.up();
    const orders = await load;
    const t = await settle('down', '/down');
    report('receiver down', t, { 'orders refused': orders.filter((o) => o.status !== 201).length });
    expectSafe(t, 0);
    await unsubscribe(subscription);
  }, 150_000);

  it('deactivate, activate, re-point and delete through one API process while the other takes orders', async () => {
    const control = await subscribe('/control');
    const subscription = await subscribe('/changing');
    receiver.secrets.set('/changed', receiver.secrets.get('/changing')!);
    let stop = false;
    const load = placeOrders(cluster, 'changes', 100_000, { concurrency: 4, api: () => 1, stop: () => stop });
    const change = async (method: string, path: string, body?: unknown) => {
      const started = Date.now();
      const { status } = await cluster.request(0, method, path, body);
      expect(status).toBeLessThan(300);
      return { started, committed: Date.now() };
    };
    const base = `/webhooks/subscriptions/${subscription}`;
    await sleep(600);
    const deactivated = await change('POST', `${base}/deactivate`);
    await sleep(800);
    const activated = await change('POST', `${base}/activate`);
    await sleep(800);
    const repointed = await change('PATCH', base, { url: receiver.url('/changed') });
    await sleep(800);
    const deleted = await change('DELETE', base);
    await sleep(800);
    stop = true;
    const orders = await load;
    const t = await settle('changes', '/control');

    const placedBetween = (from: number, to: number) => new Set(orders.filter((o) => o.id && o.started > from && o.ended < to).map((o) => o.id!));
    const whileInactive = placedBetween(deactivated.committed, activated.started);
    const afterDelete = placedBetween(deleted.committed, Number.POSITIVE_INFINITY);
    const onSubscription = receiver.arrivals.filter((a) => a.path === '/changing' || a.path === '/changed');
    const deliveredWhileInactive = onSubscription.filter((a) => a.orderId && whileInactive.has(a.orderId)).length;
    const deliveredAfterDelete = onSubscription.filter((a) => a.orderId && afterDelete.has(a.orderId)).length;
    const oldUrlAfterRepoint = onSubscription.filter((a) => a.path === '/changing' && a.at > repointed.committed).length;
    const triesAfterDelete = onSubscription.filter((a) => a.at > deleted.committed).length;
    report('subscription changes', t, {
      'orders placed while inactive': whileInactive.size,
      'delivered of them': deliveredWhileInactive,
      'tries to the old URL after the re-point': oldUrlAfterRepoint,
      'tries after the delete': triesAfterDelete,
      'orders placed after the delete': afterDelete.size,
      'delivered of these': deliveredAfterDelete,
      'on the new URL': onSubscription.filter((a) => a.path === '/changed').length,
    });
    expectSafe(t, 0);
    expect(whileInactive.size).toBeGreaterThan(0);
    expect(deliveredWhileInactive).toBe(0);
    expect(afterDelete.size).toBeGreaterThan(0);
    expect(deliveredAfterDelete).toBe(0);
    expect(onSubscription.filter((a) => a.path === '/changed').length).toBeGreaterThan(0);
    // A try already on the wire when a change committed may still arrive; nothing started after it.
    expect(oldUrlAfterRepoint).toBeLessThanOrEqual(ON_THE_WIRE);
    expect(triesAfterDelete).toBeLessThanOrEqual(ON_THE_WIRE);
    expect(onSubscription.every((a) => a.signed && a.verified)).toBe(true);
    await unsubscribe(control);
  }, 150_000);
});
