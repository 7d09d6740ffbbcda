import 'reflect-metadata';
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { HttpModule, HttpService } from '@nestjs/axios';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { getRepositoryToken, InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import axios from 'axios';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { Column, Entity, PrimaryGeneratedColumn, type Repository } from 'typeorm';
import { Pool } from 'undici';
import { WebhookDeliveryManager, WebhookEvents, WebhooksModule, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookStore } from 'nest-webhooks/extensions';
import { WebhooksMetricsModule } from 'nest-webhooks/metrics';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { payload, type Receiver, sleep } from './harness.js';
import { benchPostgresDatabase, type BenchPostgres } from './postgres-database.js';
import { benchSqliteDatabase } from './sqlite-database.js';

const SECRET_KEY = Buffer.alloc(32, 5);
const SECRET = `whsec_${SECRET_KEY.toString('base64')}`;

/** The same headers the library sends: Standard Webhooks, signed per request. */
function signedHeaders(body: string): Record<string, string> {
  const id = randomUUID();
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = createHmac('sha256', SECRET_KEY).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'user-agent': 'bench', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}

const envelope = (seq: number, extra: Record<string, unknown> = {}) => JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data: payload(seq, extra) });

export interface Window {
  warmupMs: number;
  durationMs: number;
  concurrency: number;
}

/** Counts what the receiver got during the window (after the warm-up). */
async function measure(receiver: Receiver, window: Window, start: () => void, stop: () => Promise<void>): Promise<number> {
  start();
  await sleep(window.warmupMs);
  await receiver.reset();
  await sleep(window.durationMs);
  const { count } = await receiver.stats();
  await stop();
  return count / (window.durationMs / 1000);
}

// ------------------------------------------------------------------ raw clients (the physical limit)

/** `concurrency` loops each running `step(seq)` back to back for the window (a closed loop). */
function closedLoop(receiver: Receiver, window: Window, step: (seq: number) => Promise<unknown>, cleanup: () => unknown): Promise<number> {
  let running = true;
  let seq = 0;
  const loops: Promise<void>[] = [];
  return measure(
    receiver,
    window,
    () => {
      for (let i = 0; i < window.concurrency; i++) {
        loops.push(
          (async () => {
            while (running) await step(seq++);
          })(),
        );
      }
    },
    async () => {
      running = false;
      await Promise.all(loops);
      await cleanup();
    },
  );
}

export async function rawUndici(receiver: Receiver, window: Window): Promise<number> {
  const url = new URL(receiver.url);
  const pool = new Pool(url.origin, { connections: window.concurrency, pipelining: 1 });
  return closedLoop(
    receiver,
    window,
    async (seq) => {
      const body = envelope(seq);
      const response = await pool.request({ path: url.pathname, method: 'POST', headers: signedHeaders(body), body });
      await response.body.dump();
    },
    () => pool.close(),
  );
}

export async function rawAxios(receiver: Receiver, window: Window): Promise<number> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: window.concurrency });
  const client = axios.create({ httpAgent: agent, maxRedirects: 0, proxy: false });
  return closedLoop(
    receiver,
    window,
    (seq) => {
      const body = envelope(seq);
      return client.post(receiver.url, body, { headers: signedHeaders(body), transformRequest: [(d: unknown) => d] });
    },
    () => agent.destroy(),
  );
}

// ------------------------------------------------------------------ the library

export type Store = 'memory' | 'sqlite' | 'postgres';

let postgres: BenchPostgres | null = null;

/** The PostgreSQL server the `postgres` contestants use. */
export function usePostgres(server: BenchPostgres | null): void {
  postgres = server;
}

/**
 * What the library does so that several processes can share a database: the registry version checked by every
 * outbox write and before every try, and endpoint leases. `false` turns it off for an A/B of its cost (a store
 * that says it is not shared behaves as one process's own): measurement only, never in an application.
 */
export interface LibraryRun {
  registryChecks?: boolean;
  /** `metrics`: `WebhooksMetricsModule`; `tracing`: an OpenTelemetry SDK (batched spans to an exporter that drops them). */
  observed?: 'metrics' | 'tracing';
}

/** An exporter that accepts and drops spans: the SDK's own cost, without any I/O. */
const droppingExporter = { export: (_spans: unknown[], done: (result: { code: number }) => void) => done({ code: 0 }), shutdown: async () => undefined };

/** Registers a tracing SDK as an application would (batched spans, AsyncLocalStorage context); returns its removal. */
function registerTracing(): () => Promise<void> {
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(droppingExporter as never)] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  };
}

export interface LibraryApp {
  app: INestApplicationContext;
  delivery: WebhookDeliveryManager;
  emitter: EventEmitter2;
  close(): Promise<void>;
}

export async function startLibrary(store: Store, options: WebhooksModuleOptions = {}, run: LibraryRun = {}): Promise<LibraryApp> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-bench-'));
  const imports: unknown[] = [EventEmitterModule.forRoot({ wildcard: true })];
  if (store === 'sqlite') imports.push(TypeOrmModule.forRoot(benchSqliteDatabase(join(dir, 'bench.sqlite'))));
  if (store === 'postgres') {
    if (!postgres) throw new Error('no PostgreSQL server for the benchmark');
    imports.push(TypeOrmModule.forRoot(benchPostgresDatabase(await postgres.freshDatabase())));
  }
  const removeTracing = run.observed === 'tracing' ? registerTracing() : undefined;
  if (run.observed === 'metrics') imports.push(WebhooksMetricsModule.forRoot({}));
  imports.push(
    WebhooksModule.forRoot({
      ...options,
      storage: { ...options.storage, type: store === 'memory' ? 'memory' : 'typeorm' },
      secrets: { encryptionKeys: [{ id: 'bench', key: Buffer.alloc(32, 1).toString('base64') }] },
      destinations: { allowHttp: true, allowPrivateNetworks: ['127.0.0.1/32'], ...options.destinations },
      limits: { attemptLimit: 50, ...options.limits },
    }),
  );
  class BenchModule {}
  Module({ imports: imports as never[] })(BenchModule);
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  await app.init();
  if (run.registryChecks === false) Object.defineProperty(app.get(WebhookStore), 'shared', { get: () => false });
  return {
    app,
    delivery: app.get(WebhookDeliveryManager),
    emitter: app.get(EventEmitter2),
    async close() {
      await app.close();
      await removeTracing?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Throughput of the library: a closed loop like the raw clients', at the level of events. `limit` events are
 * outstanding (emitted, not yet resolved); each resolved attempt (`webhooks.attempt.succeeded`/`failed`) lets
 * one more be emitted, in batches once per event-loop turn. No polling, so the producer costs no CPU while
 * the library is busy.
 */
export async function library(receiver: Receiver, window: Window, store: Store, options: WebhooksModuleOptions = {}, run: LibraryRun = {}): Promise<number> {
  const lib = await startLibrary(
    store,
    {
      ...options,
      delivery: { concurrency: window.concurrency, perEndpointConcurrency: window.concurrency, ...options.delivery },
    },
    run,
  );
  await lib.app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'], secret: SECRET });
  const limit = window.concurrency * 2;
  let running = false;
  let seq = 0;
  let outstanding = 0;
  let refillScheduled = false;
  const refill = () => {
    refillScheduled = false;
    if (!running) return;
    for (; outstanding < limit; outstanding++) lib.emitter.emit('order.created', payload(seq++));
  };
  const resolved = () => {
    outstanding--;
    if (!refillScheduled && running) {
      refillScheduled = true;
      setImmediate(refill);
    }
  };
  lib.emitter.on(WebhookEvents.AttemptSucceeded, resolved);
  lib.emitter.on(WebhookEvents.AttemptFailed, resolved);
  return measure(
    receiver,
    window,
    () => {
      running = true;
      refill();
    },
    async () => {
      running = false;
      await lib.close();
    },
  );
}

// ------------------------------------------------------------------ peer 1: the listener users write today

@Entity({ name: 'peer_subscription' })
class PeerSubscription {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar' })
  event!: string;

  @Column({ type: 'varchar' })
  url!: string;
}

@Injectable()
class PeerWebhookListener {
  constructor(
    @InjectRepository(PeerSubscription) private readonly subscriptions: Repository<PeerSubscription>,
    private readonly http: HttpService,
  ) {}

  /** What a typical hand-written integration does: load subscriptions, post each, await. */
  @OnEvent('order.created', { async: true, promisify: true })
  async handle(data: unknown): Promise<void> {
    const subscriptions = await this.subscriptions.findBy({ event: 'order.created' });
    await Promise.all(
      subscriptions.map((s) => {
        const body = JSON.stringify({ type: 'order.created', timestamp: new Date().toISOString(), data });
        return firstValueFrom(this.http.post(s.url, body, { headers: signedHeaders(body) }));
      }),
    );
  }
}

export async function peerNestListener(receiver: Receiver, window: Window): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-peer-'));
  class PeerModule {}
  Module({
    imports: [
      EventEmitterModule.forRoot({ wildcard: true }),
      TypeOrmModule.forRoot({ type: 'better-sqlite3', database: join(dir, 'peer.sqlite'), enableWAL: true, entities: [PeerSubscription], synchronize: true }),
      TypeOrmModule.forFeature([PeerSubscription]),
      HttpModule.register({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: window.concurrency }) }),
    ],
    providers: [PeerWebhookListener],
  })(PeerModule);
  const app = await NestFactory.createApplicationContext(PeerModule, { logger: ['error'] });
  await app.init();
  const emitter = app.get(EventEmitter2);
  await app.get<Repository<PeerSubscription>>(getRepositoryToken(PeerSubscription)).insert({ event: 'order.created', url: receiver.url });
  return closedLoop(
    receiver,
    window,
    (seq) => emitter.emitAsync('order.created', payload(seq)),
    async () => {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  );
}

// ------------------------------------------------------------------ peer 2: the npm package node-webhooks

export async function peerNodeWebhooks(receiver: Receiver, window: Window): Promise<number> {
  const require = createRequire(import.meta.url);
  const WebHooks = require('node-webhooks') as new (options: object) => {
    add(name: string, url: string): Promise<void>;
    trigger(name: string, data: unknown, headers?: Record<string, string>): void;
    getEmitter(): { on(event: string, fn: (...args: unknown[]) => void): void };
  };
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-nodewebhooks-'));
  const hooks = new WebHooks({ db: join(dir, 'db.json'), httpSuccessCodes: [200, 201, 202, 203, 204], DEBUG: false });
  await hooks.add('order.created', receiver.url);
  let inFlight = 0;
  hooks.getEmitter().on('**.success', () => inFlight--);
  hooks.getEmitter().on('**.failure', () => inFlight--);
  let running = true;
  let seq = 0;
  let producer: Promise<void> = Promise.resolve();
  return measure(
    receiver,
    window,
    () => {
      producer = (async () => {
        while (running) {
          while (inFlight < window.concurrency) {
            inFlight++;
            const body = payload(seq++);
            hooks.trigger('order.created', body, signedHeaders(JSON.stringify(body)));
          }
          await sleep(1);
        }
      })();
    },
    async () => {
      running = false;
      await producer;
      rmSync(dir, { recursive: true, force: true });
    },
  );
}

export { SECRET };
