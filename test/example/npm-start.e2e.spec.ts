import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_MAIN, runExample as run, waitForOutput as waitFor } from '../support/example-process.js';
import { tempSqliteFile } from '../support/sqlite.js';

describe('npm start: the built example app on its SQLite default', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((c) => c()));

  it('creates the database on first start, generates and prints a development key, and serves the API', async () => {
    expect(existsSync(EXAMPLE_MAIN)).toBe(true);
    const db = tempSqliteFile();
    cleanups.push(db.cleanup);
    const app = run({ PORT: '0', DATABASE_URL: `sqlite:${db.path}` });
    cleanups.push(app.kill);
    const [, base] = await waitFor(app, /listening on (http:\/\/localhost:\d+)/);
    const [, key] = await waitFor(app, /Development API key \(owner "developer", stored beside the database\): (\S+)/);
    expect(app.output()).toContain(`curl -s -X POST ${base}/webhooks/subscriptions -H 'Authorization: Bearer ${key}'`);
    expect(existsSync(db.path)).toBe(true);
    const keyFile = join(dirname(db.path), 'dev-api-key');
    expect(readFileSync(keyFile, 'utf8').trim()).toBe(key);
    expect(statSync(keyFile).mode & 0o077).toBe(0);
    expect(existsSync(join(dirname(db.path), 'dev-secret-key'))).toBe(true);
    // Created with 8 KiB pages and in WAL mode (docs/configuration.md).
    const file = new Database(db.path, { readonly: true });
    try {
      expect(file.pragma('page_size', { simple: true })).toBe(8192);
      expect(file.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      file.close();
    }

    expect((await fetch(`${base}/health`)).status).toBe(200);
    const created = await fetch(`${base}/webhooks/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'https://hooks.example.com/in', events: ['order.*'] }),
    });
    expect(created.status).toBe(201);
    app.kill();
    // enableShutdownHooks: SIGTERM closes the app, then Nest re-raises the signal.
    expect(await app.exit).toBe('SIGTERM');

    // A second start reuses the same key and finds the subscription.
    const again = run({ PORT: '0', DATABASE_URL: `sqlite:${db.path}` });
    cleanups.push(again.kill);
    const [, base2] = await waitFor(again, /listening on (http:\/\/localhost:\d+)/);
    await waitFor(again, new RegExp(`Development API key .*: ${key.replace(/[-/\\^$*+?.()|[\]{}]/g, '\\$&')}`));
    const list = await (await fetch(`${base2}/webhooks/subscriptions`, { headers: { authorization: `Bearer ${key}` } })).json();
    expect(list).toEqual({ data: [expect.objectContaining({ url: 'https://hooks.example.com/in' })], nextCursor: null });
  });

  for (const [name, env, message] of [
    ['DATABASE_URL', { DATABASE_URL: 'mysql://nope' }, /^Configuration error: DATABASE_URL must start with sqlite: or postgres:\/\//m],
    ['WEBHOOKS_API_KEYS', { WEBHOOKS_API_KEYS: 'alice-without-key' }, /^Configuration error: WEBHOOKS_API_KEYS must be a comma-separated list of owner:key pairs$/m],
    ['WEBHOOKS_ALLOW_HTTP', { WEBHOOKS_ALLOW_HTTP: 'yes' }, /^Configuration error: WEBHOOKS_ALLOW_HTTP must be "true" or "false"/m],
    ['WEBHOOKS_SECRET_KEY', { WEBHOOKS_SECRET_KEY: 'short' }, /^Configuration error: WEBHOOKS_SECRET_KEY must be the base64 of 32 bytes/m],
  ] as const) {
    it(`a malformed ${name} stops the app with one line naming it`, async () => {
      const db = tempSqliteFile();
      cleanups.push(db.cleanup);
      const app = run({ PORT: '0', DATABASE_URL: `sqlite:${db.path}`, ...env });
      cleanups.push(app.kill);
      expect(await app.exit).toBe(1);
      expect(app.output()).toMatch(message);
      expect(app.output().trim().split('\n')).toHaveLength(1);
    });
  }
});
