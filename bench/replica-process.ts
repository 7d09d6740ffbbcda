import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { TypeOrmModule } from '@nestjs/typeorm';
import { WebhooksModule, WebhookSubscriptionManager } from 'nest-webhooks';
import { SHARDS } from './bursts.js';
import { payload } from './harness.js';
import { benchPostgresDatabase } from './postgres-database.js';
import { benchSqliteDatabase } from './sqlite-database.js';

/**
 * One process of a replicated deployment, forked by the burst section: `ROLE=api` publishes only (its attempts are
 * written unleased), `ROLE=worker` delivers. `DATABASE` is a SQLite file or a postgres:// URL. Controlled over IPC:
 * `setup` (the api creates one subscription per receiver endpoint), `burst` (the api emits N events at once).
 */
const { ROLE, DATABASE, CONCURRENCY, PER_ENDPOINT } = process.env;
const role = ROLE === 'worker' ? 'worker' : 'api';

class ReplicaModule {}
Module({
  imports: [
    EventEmitterModule.forRoot({ wildcard: true }),
    TypeOrmModule.forRoot(DATABASE!.startsWith('postgres') ? benchPostgresDatabase(DATABASE!) : benchSqliteDatabase(DATABASE!)),
    WebhooksModule.forRoot({
      storage: { type: 'typeorm' },
      secrets: { encryptionKeys: [{ id: 'bench', key: Buffer.alloc(32, 1).toString('base64') }] },
      destinations: { allowHttp: true, allowPrivateNetworks: ['127.0.0.1/32'] },
      limits: { attemptLimit: 50 },
      delivery: { worker: role === 'worker', concurrency: Number(CONCURRENCY), perEndpointConcurrency: Number(PER_ENDPOINT), pollIntervalMs: 100 },
    }),
  ],
})(ReplicaModule);

const app = await NestFactory.createApplicationContext(ReplicaModule, { logger: ['error'] });
await app.init();
process.on('message', async (message: { type: string; urls?: string[]; count?: number }) => {
  if (message.type === 'setup') {
    const manager = app.get(WebhookSubscriptionManager);
    for (const [shard, url] of message.urls!.entries()) await manager.create({ url, events: [`shard${shard}.**`] });
    process.send!({ type: 'setup-done' });
  } else if (message.type === 'burst') {
    const emitter = app.get(EventEmitter2);
    for (let i = 0; i < message.count!; i++) emitter.emit(`shard${i % SHARDS}.order.created`, payload(i));
    process.send!({ type: 'emitted' });
  } else if (message.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send!({ type: 'cpu-usage', micros: user + system });
  } else if (message.type === 'stop') {
    await app.close();
    process.exit(0);
  }
});
process.send!({ type: 'ready' });
