import { randomBytes } from 'node:crypto';
import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { postgresBin, type PostgresCluster, startPostgresCluster } from '../test/support/postgres-cluster.js';

/**
 * The PostgreSQL server of the benchmark: a throwaway cluster of its own (Debian's PostgreSQL programs, the same
 * the tests use), with `fsync=off` like the test cluster. Each contestant run gets a new database.
 */
export class BenchPostgres {
  private constructor(private readonly cluster: PostgresCluster) {}

  /** Null when the PostgreSQL programs are not installed (the PostgreSQL contestants are then left out). */
  static async start(): Promise<BenchPostgres | null> {
    if (!postgresBin()) return null;
    return new BenchPostgres(await startPostgresCluster());
  }

  /** A new empty database; its URL. */
  async freshDatabase(): Promise<string> {
    const name = `bench_${randomBytes(5).toString('hex')}`;
    const admin = await new DataSource({ type: 'postgres', url: this.cluster.url }).initialize();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.destroy();
    }
    const url = new URL(this.cluster.url);
    url.pathname = `/${name}`;
    return url.toString();
  }

  stop(): Promise<void> {
    return this.cluster.stop();
  }
}

/** TypeORM options of a library contestant on PostgreSQL (the webhook tables created by the migrations). */
export function benchPostgresDatabase(url: string): TypeOrmModuleOptions {
  return { type: 'postgres', url, entities: WEBHOOK_ENTITIES, migrations: WEBHOOK_MIGRATIONS, migrationsRun: true };
}
