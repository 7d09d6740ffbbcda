import type { INestApplication } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { createExampleApp } from '../../apps/example/src/app.factory.js';
import { loadAppConfig } from '../../apps/example/src/config/app-config.js';
import { createTestDatabase, type TestDatabase } from './databases.js';
import { testTls } from './tls.js';

export const ALICE_KEY = 'alice-key-0123456789abcdef';
export const BOB_KEY = 'bob-key-0123456789abcdef';

/** The real example application on a fresh database (SQLite file or PostgreSQL), listening on a random loopback port. */
export interface RunningExampleApp {
  app: INestApplication;
  baseUrl: string;
  database: TestDatabase;
  /** fetch() against the app with an API key (`null` for no Authorization header). */
  request(method: string, path: string, options?: { key?: string | null; body?: unknown; rawBody?: string }): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startExampleApp(
  env: Record<string, string> = {},
  options: { delivery?: Record<string, unknown>; database?: TestDatabase | 'sqlite' | 'postgres' } = {},
): Promise<RunningExampleApp> {
  const given = typeof options.database === 'object' ? options.database : undefined;
  const database = given ?? (await createTestDatabase(typeof options.database === 'string' ? options.database : 'sqlite'));
  const config = loadAppConfig({
    PORT: '0',
    DATABASE_URL: database.url,
    WEBHOOKS_API_KEYS: `alice:${ALICE_KEY},bob:${BOB_KEY}`,
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: '127.0.0.1/32',
    WEBHOOKS_SECRET_KEY: Buffer.alloc(32, 3).toString('base64'),
    ...env,
  });
  config.tlsCa = testTls.ca;
  const { app } = await createExampleApp(config, { logger: ['error'], delivery: options.delivery as never });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    baseUrl,
    database,
    async request(method, path, { key = ALICE_KEY, body, rawBody } = {}) {
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (body !== undefined || rawBody !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(baseUrl + path, { method, headers, body: rawBody ?? (body === undefined ? undefined : JSON.stringify(body)) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: response.status, body: parsed };
    },
    async close() {
      await app.close();
      if (!given) await database.drop();
    },
  };
}

/** Polls until `check` passes (deliveries happen in the background of the app under test). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 10_000): Promise<T> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) throw lastError;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
