import Database from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { describe, expect, it } from 'vitest';
import { TypeOrmWebhookStore } from '../../libs/webhooks/src/storage/typeorm/typeorm-webhook.store.js';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import { pendingAttempt } from '../support/attempts.js';
import { sqliteDataSourceOptions, tempSqliteFile, TEST_SECRET_KEY } from '../support/sqlite.js';

/** Runs `test` with an initialized store on a fresh SQLite file; closes the store (if the test did not) and removes the file. */
async function withStore(test: (store: TypeOrmWebhookStore, path: string) => Promise<void>): Promise<void> {
  const file = tempSqliteFile();
  const dataSource = new DataSource(sqliteDataSourceOptions(file.path));
  await dataSource.initialize();
  const store = new TypeOrmWebhookStore(() => dataSource, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
  try {
    await store.initialize();
    await test(store, file.path);
  } finally {
    await store.close();
    await dataSource.destroy();
    file.cleanup();
  }
}

describe('TypeORM store on SQLite: claims', () => {
  it('returns claimed attempts exactly as findAttempt reads them (request, response, history, dates)', async () => {
    await withStore(async (store) => {
      const created = new Date('2026-01-01T00:00:00.000Z');
      const payload = '{"type":"order.created"}';
      const attempt = pendingAttempt(created, { payload });
      await store.insertAttempts([attempt], {}, { workerId: 'a', leaseUntil: new Date(created.getTime() + 1000) });
      const triedAt = new Date('2026-01-01T00:00:01.000Z');
      await store.recordTry(
        attempt,
        {
          status: 'pending',
          message: '503 Service Unavailable',
          request: { url: 'https://example.test/hook', method: 'POST', headers: { 'webhook-id': 'msg_1' }, body: payload, sentAt: triedAt },
          response: { statusCode: 503, reason: 'Service Unavailable', headers: { 'retry-after': '1' }, body: 'busy', truncated: false, elapsedMs: 12, receivedAt: triedAt },
          try: { number: 1, startedAt: triedAt, elapsedMs: 12, statusCode: 503, message: '503 Service Unavailable', errorCode: null },
          nextAttemptAt: triedAt,
          exception: 'Error: busy',
        },
        triedAt,
      );

      const claimed = await store.claimDue('b', new Date('2026-01-01T00:00:02.000Z'), new Date('2026-01-01T00:01:00.000Z'), 10);

      expect(claimed).toHaveLength(1);
      expect(claimed[0]).toEqual(await store.findAttempt(attempt.id));
      expect(claimed[0]!.request!.sentAt).toBeInstanceOf(Date);
      expect(claimed[0]!.request!.body).toBe(payload);
      expect(claimed[0]!.history[0]!.startedAt).toEqual(triedAt);
      expect(claimed[0]!.internal.exceptionHistory).toEqual(['Error: busy']);
    });
  });

  it('commits the writes queued in the turn the store closes, instead of failing them on a closed connection', async () => {
    await withStore(async (store, path) => {
      const created = new Date('2026-01-01T00:00:00.000Z');
      const attempts = [pendingAttempt(created), pendingAttempt(created)];
      // Queued for the group commit of this turn, which has not run yet when close() is called.
      const inserted = store.insertAttempts(attempts, {}, { workerId: 'a', leaseUntil: new Date(created.getTime() + 1000) });
      await store.close();

      await expect(inserted).resolves.toHaveLength(2);
      const db = new Database(path, { readonly: true });
      try {
        const ids = (db.prepare('SELECT id FROM webhook_attempt ORDER BY id').all() as Array<{ id: string }>).map((row) => row.id);
        expect(ids).toEqual(attempts.map((a) => a.id).sort());
      } finally {
        db.close();
      }
    });
  });

  it("starts while another process holds the file's write lock (running migrations), waiting instead of failing", async () => {
    const file = tempSqliteFile();
    const dataSource = new DataSource(sqliteDataSourceOptions(file.path));
    await dataSource.initialize();
    const other = new Database(file.path);
    const store = new TypeOrmWebhookStore(() => dataSource, { secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } } as ResolvedWebhooksOptions);
    try {
      other.exec('BEGIN IMMEDIATE');
      const started = store.initialize();
      await new Promise((resolve) => setTimeout(resolve, 200));
      other.exec('COMMIT');

      await expect(started).resolves.toBeUndefined();
      await expect(store.listSubscriptions({})).resolves.toEqual([]);
    } finally {
      other.close();
      await store.close();
      await dataSource.destroy();
      file.cleanup();
    }
  });
});
