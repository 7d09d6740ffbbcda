import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { type ExampleProcess, runExample, waitForOutput } from '../support/example-process.js';

export const API_KEY = 'alice-key-0123456789abcdef';
const SECRET_KEY = Buffer.alloc(32, 6).toString('base64');

/** One request the receiver got. */
export interface Arrival {
  path: string;
  webhookId: string | undefined;
  /** The order the event is about. */
  orderId: string | null;
  signed: boolean;
  /** The signature verified with the subscription's secret (`standardwebhooks`). */
  verified: boolean;
  at: number;
}

/**
 * A plain HTTP receiver on loopback that verifies every request's signature with the secret of its path, can hold
 * answers (so requests are in flight when something is killed), and can go down and come back on the same port.
 */
export class ChaosReceiver {
  readonly arrivals: Arrival[] = [];
  readonly secrets = new Map<string, string>();
  holdMs = 0;
  inFlight = 0;
  private server: http.Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor() {
    this.server = this.createServer();
  }

  static async start(): Promise<ChaosReceiver> {
    const receiver = new ChaosReceiver();
    await receiver.listen(0);
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Stops answering: the port refuses connections until `up()`. */
  async down(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async up(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Order ids of the events that arrived on `path` (verified ones only), with how often each arrived. */
  received(path: string): Map<string, Arrival[]> {
    const byOrder = new Map<string, Arrival[]>();
    for (const arrival of this.arrivals) {
      if (arrival.path !== path || !arrival.verified || arrival.orderId === null) continue;
      byOrder.set(arrival.orderId, [...(byOrder.get(arrival.orderId) ?? []), arrival]);
    }
    return byOrder;
  }

  private createServer(): http.Server {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    return server;
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : String(v)]));
    const path = req.url ?? '';
    const secret = this.secrets.get(path);
    let verified = false;
    try {
      if (secret) {
        new Webhook(secret).verify(body, headers);
        verified = true;
      }
    } catch {
      verified = false;
    }
    let orderId: string | null = null;
    try {
      orderId = (JSON.parse(body) as { data?: { id?: string } }).data?.id ?? null;
    } catch {
      // not JSON: counted as unverified
    }
    this.arrivals.push({ path, webhookId: headers['webhook-id'], orderId, signed: !!headers['webhook-signature'], verified, at: Date.now() });
    this.inFlight++;
    if (this.holdMs > 0) await new Promise((resolve) => setTimeout(resolve, this.holdMs));
    this.inFlight--;
    res.writeHead(200).end();
  }
}

/** A running example-app process and, for an API process, its base URL. */
export interface Member {
  process: ExampleProcess;
  base: string | null;
}

/** API processes (`WEBHOOKS_ROLE=api`, publish only) and delivery workers (`WEBHOOKS_ROLE=worker`) on one database. */
export class Cluster {
  readonly apis: Member[] = [];
  readonly workers: Member[] = [];

  private constructor(private readonly env: Record<string, string>) {}

  static async start(databaseUrl: string, options: { apis: number; workers: number; env?: Record<string, string> }): Promise<Cluster> {
    const cluster = new Cluster({
      PORT: '0',
      DATABASE_URL: databaseUrl,
      WEBHOOKS_API_KEYS: `alice:${API_KEY}`,
      WEBHOOKS_SECRET_KEY: SECRET_KEY,
      WEBHOOKS_ALLOW_HTTP: 'true',
      WEBHOOKS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
      WEBHOOKS_RETRY_SCHEDULE: '200ms,500ms,1s,1s,2s,2s,2s,2s,2s,2s',
      WEBHOOKS_LEASE_MS: '3s',
      WEBHOOKS_POLL_INTERVAL_MS: '250ms',
      ...options.env,
    });
    const starting: Array<Promise<Member>> = [];
    for (let i = 0; i < options.apis; i++) starting.push(cluster.add('api'));
    for (let i = 0; i < options.workers; i++) starting.push(cluster.add('worker'));
    await Promise.all(starting);
    return cluster;
  }

  /** Starts one more process of that role. */
  async add(role: 'api' | 'worker'): Promise<Member> {
    const process = runExample({ ...this.env, WEBHOOKS_ROLE: role });
    const member: Member = { process, base: null };
    (role === 'api' ? this.apis : this.workers).push(member);
    if (role === 'api') member.base = (await waitForOutput(process, /listening on (http:\/\/localhost:\d+)/, 30_000))[1]!;
    else await waitForOutput(process, /example worker delivering/, 30_000);
    return member;
  }

  async request(api: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const response = await fetch(`${this.apis[api]!.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }

  async stop(): Promise<void> {
    for (const member of [...this.apis, ...this.workers]) {
      member.process.kill('SIGKILL');
      await member.process.exit;
    }
  }

  output(): string {
    return [...this.apis, ...this.workers].map((m) => m.process.output()).join('\n');
  }
}

/** One `POST /orders`, with when it was sent and answered. */
export interface OrderRequest {
  id: string | null;
  status: number;
  started: number;
  ended: number;
}

/**
 * Places `count` orders (items `<prefix>-<n>`), `concurrency` at a time, alternating between the API processes (or
 * on the one `api` picks), until `count` or `stop()` says so. Never throws: a failed request is a result.
 */
export async function placeOrders(
  cluster: Cluster,
  prefix: string,
  count: number,
  options: { concurrency?: number; api?: (i: number) => number; stop?: () => boolean } = {},
): Promise<OrderRequest[]> {
  const results: OrderRequest[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count && !options.stop?.()) {
      const i = next++;
      const started = Date.now();
      try {
        const { status, body } = await cluster.request(options.api?.(i) ?? i % cluster.apis.length, 'POST', '/orders', { item: `${prefix}-${i}`, quantity: 1 });
        results.push({ id: status === 201 ? body.id : null, status, started, ended: Date.now() });
      } catch {
        results.push({ id: null, status: 0, started, ended: Date.now() });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));
  return results;
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a scenario ends with, printed by the test. */
export interface Tally {
  committed: number;
  delivered: number;
  lost: string[];
  duplicated: number;
  /** Events delivered more than once with different webhook-ids (must be 0). */
  differentIds: number;
  unsigned: number;
  unverified: number;
}

/** Every committed order against what arrived on `path`. */
export function tally(receiver: ChaosReceiver, committed: readonly string[], path: string): Tally {
  const received = receiver.received(path);
  const duplicated = [...received.values()].filter((arrivals) => arrivals.length > 1);
  return {
    committed: committed.length,
    delivered: committed.filter((id) => received.has(id)).length,
    lost: committed.filter((id) => !received.has(id)),
    duplicated: duplicated.length,
    differentIds: duplicated.filter((arrivals) => new Set(arrivals.map((a) => a.webhookId)).size > 1).length,
    unsigned: receiver.arrivals.filter((a) => !a.signed).length,
    unverified: receiver.arrivals.filter((a) => !a.verified).length,
  };
}
