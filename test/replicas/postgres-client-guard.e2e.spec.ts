import { DataSource } from 'typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { withPostgresClientGuard } from '../../libs/webhooks/src/storage/typeorm/postgres-client-guard.js';
import { POSTGRES_URL } from '../support/databases.js';

interface PooledClient {
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  release(error?: unknown): void;
  listenerCount(event: string): number;
}
interface ClientPool {
  connect(): Promise<PooledClient>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sources: DataSource[] = [];
afterEach(async () => {
  for (const source of sources.splice(0)) if (source.isInitialized) await source.destroy();
});

describe.skipIf(!POSTGRES_URL)('the PostgreSQL connection guard', () => {
  it('a connection held without an error listener survives its backend being terminated, and the pool goes on', async () => {
    const errors: unknown[] = [];
    let seenOnConnect = 0;
    const source = new DataSource({
      type: 'postgres',
      url: POSTGRES_URL,
      extra: withPostgresClientGuard({ max: 2, onConnect: () => void seenOnConnect++ }),
    });
    sources.push(source);
    await source.initialize();
    const pool = (source.driver as unknown as { master: ClientPool }).master;
    // Held the way TypeORM holds one while it initializes: the pool's idle listener is gone and nobody added one.
    const held = await pool.connect();
    const onUncaught = (error: unknown) => errors.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      expect(held.listenerCount('error')).toBe(1);
      const [{ pid }] = (await held.query('SELECT pg_backend_pid() AS pid')).rows as Array<{ pid: number }>;
      await source.query('SELECT pg_terminate_backend($1)', [pid]);
      await sleep(300);
      await expect(held.query('SELECT 1')).rejects.toThrow();
      held.release(true);
      expect(await source.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(errors).toEqual([]);
    expect(seenOnConnect).toBeGreaterThan(0); // the application's own hook still runs
  });
});
