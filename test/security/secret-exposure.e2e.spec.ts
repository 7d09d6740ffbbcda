import { type INestApplication, Logger, type LoggerService, Module } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, type MockInstance, vi } from 'vitest';
import { InvalidWebhookSubscriptionError, type WebhookAttempt, WebhookDeliveryManager, WebhookEvents, WebhookMessages, WebhooksModule, type WebhooksModuleOptions, type WebhookSubscriptionEvent, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookStore } from 'nest-webhooks/extensions';
import { ok, TestReceiver } from '../support/receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { createWebhooksApp, DATABASE_STORES, loopbackDestinations } from '../support/webhooks-app.js';

/**
 * Issue "Safe by default" — the signing secret is write-only (secrets at rest, redaction; the class of
 * leak of advisory GHSA-3r5c-2xxx-h872). It is shown once, by `create()`/`rotateSecret()` when read explicitly,
 * and never appears in returned objects, events, attempt records, error messages, logs or database rows.
 */

const EVENT = 'order.created';
const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** Every spelling of a `whsec_` secret that would count as a leak. */
function secretForms(secret: string): string[] {
  const encoded = secret.slice('whsec_'.length);
  const key = Buffer.from(encoded, 'base64');
  return [secret, encoded, key.toString('hex'), key.toString('base64url'), Buffer.from(secret).toString('base64'), Buffer.from(encoded).toString('base64')];
}

function expectNoSecret(text: string, secret: string, where: string): void {
  for (const form of secretForms(secret)) expect(text.includes(form), `${where} contains the secret (${form.slice(0, 12)}…)`).toBe(false);
}

/** A Nest LoggerService that records every call, at every level. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  private record(level: string, message: unknown, params: unknown[]): void {
    const text = [message, ...params].map((part) => (typeof part === 'string' ? part : inspect(part, { depth: 10 }))).join(' ');
    this.lines.push(`${level}: ${text}`);
  }
  log(message: unknown, ...params: unknown[]) {
    this.record('log', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.record('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.record('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.record('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.record('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.record('fatal', message, params);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

describe('secret exposure: the signing secret is write-only', () => {
  let app: INestApplication | undefined;
  const cleanups: Array<() => unknown> = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function receiver(options: Parameters<typeof TestReceiver.start>[0] = {}): Promise<TestReceiver> {
    const started = await TestReceiver.start(options);
    cleanups.push(() => started.close());
    return started;
  }

  async function deliver(subscriptionId: string): Promise<WebhookAttempt> {
    app!.get(EventEmitter2).emit(EVENT, { id: 'o-1' });
    await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const [attempt] = await app!.get(WebhookDeliveryManager).listAttempts(subscriptionId, { limit: 1 });
    expect(attempt).toBeDefined();
    return attempt!;
  }

  describe('returned objects, events and attempt records (memory store)', () => {
    it('create(): JSON.stringify and util.inspect of the result do not show the secret; result.secret does', async () => {
      const target = await receiver();
      app = await createWebhooksApp({ webhooks: { delivery: { retrySchedule: [] } } });
      const subscriptions = app.get(WebhookSubscriptionManager);
      const created: WebhookSubscriptionEvent[] = [];
      app.get(EventEmitter2).on(WebhookEvents.SubscriptionCreated, (e: WebhookSubscriptionEvent) => created.push(e));

      const generated = await subscriptions.create({ url: `${target.url}/a`, events: [EVENT] });
      expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      const chosen = newSecret();
      const supplied = await subscriptions.create({ url: `${target.url}/b`, events: [EVENT], secret: chosen });
      expect(supplied.secret).toBe(chosen);

      for (const [result, secret] of [
        [generated, generated.secret],
        [supplied, chosen],
      ] as const) {
        expectNoSecret(JSON.stringify(result), secret, 'JSON.stringify(create())');
        expectNoSecret(inspect(result, { depth: 10 }), secret, 'util.inspect(create())');
        expectNoSecret(String(result), secret, 'String(create())');
        expectNoSecret(JSON.stringify({ ...result }), secret, 'a spread copy of create()');
        expect(result.subscription).not.toHaveProperty('secret');
        expectNoSecret(inspect(result.subscription, { depth: 10, showHidden: true }), secret, 'util.inspect(subscription, showHidden)');
        expectNoSecret(JSON.stringify(await subscriptions.get(result.subscription.id)), secret, 'get()');
      }
      const everything = JSON.stringify(await subscriptions.list()) + inspect(created, { depth: 10 });
      expectNoSecret(everything, generated.secret, 'list() and created events');
      expectNoSecret(everything, chosen, 'list() and created events');
      expect(created).toHaveLength(2);
    });

    it('rotateSecret(): the new secret is only in result.secret; old and new are absent from everything else', async () => {
      const target = await receiver();
      app = await createWebhooksApp({ webhooks: { delivery: { retrySchedule: [] } } });
      const subscriptions = app.get(WebhookSubscriptionManager);
      const { subscription, secret: first } = await subscriptions.create({ url: `${target.url}/r`, events: [EVENT] });
      const rotated = await subscriptions.rotateSecret(subscription.id);
      expect(rotated.secret).not.toBe(first);
      for (const secret of [first, rotated.secret]) {
        expectNoSecret(JSON.stringify(rotated), secret, 'JSON.stringify(rotateSecret())');
        expectNoSecret(inspect(rotated, { depth: 10 }), secret, 'util.inspect(rotateSecret())');
      }
      // During the overlap both secrets sign; the receiver verifies with either, and nothing stores them.
      const attempt = await deliver(subscription.id);
      expect(attempt.status).toBe('successful');
      const request = target.requests[0]!;
      expect(() => new Webhook(first).verify(request.body, request.headers)).not.toThrow();
      expect(() => new Webhook(rotated.secret).verify(request.body, request.headers)).not.toThrow();
      for (const secret of [first, rotated.secret]) expectNoSecret(JSON.stringify(attempt), secret, 'the attempt record');
    });

    it('attempt records and failure messages of successful and failing deliveries never hold the secret', async () => {
      const okReceiver = await receiver();
      const resetting = await receiver({ responder: (_request, res) => void res.socket?.destroy() });
      const failing = await receiver({ responder: ok(500) });
      const untrusted = await receiver({ protocol: 'untrusted-https' });
      app = await createWebhooksApp({ webhooks: { delivery: { retrySchedule: [], timeoutMs: 3_000 } } });
      const subscriptions = app.get(WebhookSubscriptionManager);
      const secret = newSecret();
      const ids: string[] = [];
      for (const url of [okReceiver.url, resetting.url, failing.url, untrusted.url, 'https://127.0.0.1:1/closed-port']) {
        ids.push((await subscriptions.create({ url: `${url}/x`, events: [EVENT], secret })).subscription.id);
      }
      app.get(EventEmitter2).emit(EVENT, { id: 'o-1' });
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();

      const attempts = (await Promise.all(ids.map((id) => app!.get(WebhookDeliveryManager).listAttempts(id)))).flat();
      expect(attempts.map((a) => a.status)).toEqual(['successful', 'failed', 'failed', 'failed', 'failed']);
      expect(attempts.slice(1).every((a) => a.internal.exceptionHistory.length > 0 || a.response?.statusCode === 500)).toBe(true);
      expectNoSecret(JSON.stringify(attempts), secret, 'attempt records');
      expectNoSecret(inspect(attempts, { depth: 20 }), secret, 'util.inspect of attempt records');
      expect(attempts[0]!.request!.headers['webhook-signature']).toBe('[redacted]');
    });

    it('error messages about a supplied secret do not echo it', async () => {
      app = await createWebhooksApp();
      const subscriptions = app.get(WebhookSubscriptionManager);
      const candidates = [
        `whsec_${randomBytes(10).toString('base64')}`, // too short
        `whsec_${randomBytes(80).toString('base64')}`, // too long
        `sk_live_${randomBytes(24).toString('hex')}`, // wrong prefix
        `whsec_${randomBytes(24).toString('hex')}!!`, // not base64
      ];
      for (const secret of candidates) {
        const error = await subscriptions.create({ url: 'https://127.0.0.1/', secret }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
        expect(error).toMatchObject({ field: 'secret' });
        expect((error as Error).message).not.toContain(secret);
        expect(inspect(error)).not.toContain(secret);
        expect(JSON.stringify(error)).not.toContain(secret);
      }
      // A valid secret with another invalid field: the error is about the field, without the secret.
      const secret = newSecret();
      const error = await subscriptions.create({ url: 'ftp://127.0.0.1/', secret }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expectNoSecret(`${(error as Error).message} ${inspect(error)}`, secret, 'the error');
    });
  });

  describe('log output', () => {
    let previousLogger: LoggerService | undefined;
    let stdout: MockInstance | undefined;
    let stderr: MockInstance | undefined;

    afterEach(() => {
      stdout?.mockRestore();
      stderr?.mockRestore();
      if (previousLogger) Logger.overrideLogger(previousLogger);
    });

    /** Like `createWebhooksApp`, but Nest's logger is `logger` from the first line of the boot on. */
    async function createAppWithLogger(logger: LoggerService, webhooks: WebhooksModuleOptions): Promise<INestApplication> {
      @Module({
        imports: [
          EventEmitterModule.forRoot({ wildcard: true }),
          WebhooksModule.forRoot({ ...webhooks, destinations: { ...loopbackDestinations(), ...webhooks.destinations } }),
        ],
      })
      class LoggedAppModule {}
      const moduleRef = await Test.createTestingModule({ imports: [LoggedAppModule] }).setLogger(logger).compile();
      const created = moduleRef.createNestApplication({ logger });
      await created.init();
      return created;
    }

    it('a full lifecycle (boot, create, deliver OK, deliver to a resetting receiver, a hanging request aborted at shutdown) logs no secret', async () => {
      const capture = new CapturingLogger();
      previousLogger = (Logger as unknown as { staticInstanceRef: LoggerService }).staticInstanceRef;
      stdout = vi.spyOn(process.stdout, 'write');
      stderr = vi.spyOn(process.stderr, 'write');

      const okReceiver = await receiver();
      const resetting = await receiver({ responder: (_request, res) => void res.socket?.destroy() });
      const hanging = await receiver({ responder: () => undefined });
      const staticSecret = newSecret();
      app = await createAppWithLogger(capture, {
        delivery: { retrySchedule: [], timeoutMs: 20_000, shutdownTimeoutMs: 200 },
        subscriptions: [
          { id: 'static-with-secret', url: `${okReceiver.url}/static`, events: [EVENT], secret: staticSecret },
          // Warns at boot: a static subscription without a secret gets a random one.
          { id: 'static-without-secret', url: `${okReceiver.url}/static-no-secret`, events: ['other.event'] },
        ],
      });
      const subscriptions = app.get(WebhookSubscriptionManager);
      const secret = newSecret();
      const good = await subscriptions.create({ url: `${okReceiver.url}/ok`, events: [EVENT], secret });
      const reset = await subscriptions.create({
        url: `${resetting.url.replace('https://', 'https://hook-user:pw-log-123@')}/reset?token=tok-log-456`,
        events: [EVENT],
        secret,
        headers: { authorization: 'Bearer hdr-log-789' },
      });
      const rotated = await subscriptions.rotateSecret(good.subscription.id);
      app.get(EventEmitter2).emit(EVENT, { id: 'o-1' });
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      expect((await app.get(WebhookDeliveryManager).listAttempts(good.subscription.id))[0]!.status).toBe('successful');
      const [failed] = await app.get(WebhookDeliveryManager).listAttempts(reset.subscription.id);
      expect(failed).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.RemoteError });

      // A request still in flight at shutdown: aborted with a warning.
      await subscriptions.create({ url: `${hanging.url}/hang`, events: ['slow.event'], secret });
      app.get(EventEmitter2).emit('slow.event', { id: 'o-2' });
      await hanging.waitForRequests(1);
      await app.close();
      app = undefined;

      const logged = capture.text();
      // The capture works: it saw the boot log and the warnings.
      expect(logged).toContain('Webhook registry ready');
      expect(logged).toMatch(/warn: .*static-without-secret/);
      expect(logged).toMatch(/warn: Aborting 1 webhook request/);
      const written = [...stdout.mock.calls, ...stderr.mock.calls].map(([chunk]) => String(chunk)).join('');
      for (const credential of ['pw-log-123', 'tok-log-456', 'hdr-log-789']) {
        expect(logged).not.toContain(credential);
        expect(written).not.toContain(credential);
      }
      for (const s of [secret, staticSecret, rotated.secret]) {
        expectNoSecret(logged, s, 'the Nest log');
        expectNoSecret(written, s, 'stdout/stderr');
      }
    });
  });

  describe.each(DATABASE_STORES)('secrets at rest (TypeORM store on %s)', (kind) => {
    const KEY_A = { id: 'A', key: randomBytes(32).toString('base64') };
    const KEY_B = { id: 'B', key: randomBytes(32).toString('base64') };
    let database: TestDatabase | undefined;

    afterEach(async () => {
      // Runs before the outer afterEach: close the app before its database goes.
      await app?.close();
      app = undefined;
      await database?.drop();
      database = undefined;
    });

    async function freshDatabase(): Promise<TestDatabase> {
      database = await createTestDatabase(kind);
      return database;
    }

    function bootStored(db: TestDatabase, keys: Array<{ id: string; key: string }>, extra: WebhooksModuleOptions = {}) {
      return createWebhooksApp({
        database: db,
        webhooks: { ...extra, secrets: { encryptionKeys: keys }, delivery: { retrySchedule: [] } },
      });
    }

    async function rows(db: TestDatabase): Promise<Array<{ id: string; secrets: string }>> {
      return (await db.query('SELECT id, secrets FROM webhook_subscription ORDER BY id')) as Array<{ id: string; secrets: string }>;
    }

    /** Every row of every table of the database, every column, as text (what a dump or a backup holds). */
    async function everyRow(db: TestDatabase): Promise<string> {
      const tables = (await db.query(
        db.kind === 'sqlite'
          ? "SELECT name FROM sqlite_master WHERE type = 'table'"
          : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
      )) as Array<{ name: string }>;
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['webhook_subscription', 'webhook_attempt']));
      const parts: string[] = [];
      for (const { name } of tables) {
        for (const row of await db.query(`SELECT * FROM "${name}"`)) {
          for (const [column, value] of Object.entries(row)) {
            parts.push(`${name}.${column}=${Buffer.isBuffer(value) ? value.toString('latin1') : typeof value === 'string' ? value : JSON.stringify(value)}`);
          }
        }
      }
      return parts.join('\n');
    }

    /**
     * The database's files as raw bytes (latin1 keeps every byte): the SQLite file with its WAL and journal, or the
     * PostgreSQL database's directory after a checkpoint (dead row versions stay in those files until a vacuum).
     * `undefined` when the PostgreSQL server's files are not readable from here (a server on another host or user).
     */
    async function rawDatabase(db: TestDatabase): Promise<string | undefined> {
      if (db.kind === 'sqlite') {
        return [db.path!, `${db.path}-wal`, `${db.path}-journal`]
          .filter((file) => existsSync(file))
          .map((file) => readFileSync(file).toString('latin1'))
          .join('');
      }
      let directory: string;
      try {
        const [{ data, oid }] = (await db.query(
          "SELECT current_setting('data_directory') AS data, oid::text AS oid FROM pg_database WHERE datname = current_database()",
        )) as [{ data: string; oid: string }];
        directory = join(data, 'base', oid);
        readdirSync(directory);
        await db.query('CHECKPOINT');
      } catch {
        return undefined;
      }
      return readdirSync(directory)
        .map((file) => join(directory, file))
        .filter((file) => statSync(file).isFile())
        .map((file) => readFileSync(file).toString('latin1'))
        .join('');
    }

    it('rows hold ciphertext "v1.<keyId>." and neither the rows nor the database files contain the secret', async () => {
      const db = await freshDatabase();
      const target = await receiver();
      app = await bootStored(db, [KEY_A]);
      const secret = newSecret();
      const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${target.url}/db`, events: [EVENT], secret });
      const generated = await app.get(WebhookSubscriptionManager).create({ url: `${target.url}/db2`, events: [EVENT] });
      const attempt = await deliver(subscription.id);
      expect(attempt.status).toBe('successful');
      expect(() => new Webhook(secret).verify(target.requests[0]!.body, target.requests[0]!.headers)).not.toThrow();

      const stored = await rows(db);
      expect(stored.map((r) => r.id).sort()).toEqual([subscription.id, generated.subscription.id].sort());
      for (const row of stored) {
        expect(row.secrets.startsWith('v1.A.')).toBe(true);
        expectNoSecret(row.secrets, secret, 'the secrets column');
        expectNoSecret(row.secrets, generated.secret, 'the secrets column');
      }
      const dump = await everyRow(db);
      // The dump does see row data: the subscription, its attempt and the ciphertext.
      expect(dump).toContain(subscription.id);
      expect(dump).toContain(attempt.id);
      expect(dump).toContain(stored[0]!.secrets);
      expectNoSecret(dump, secret, `the rows of the ${kind} database`);
      expectNoSecret(dump, generated.secret, `the rows of the ${kind} database`);

      const raw = await rawDatabase(db);
      if (kind === 'sqlite') expect(raw).toBeDefined();
      if (raw !== undefined) {
        expect(raw).toContain(subscription.id); // the raw read does see row data
        expectNoSecret(raw, secret, `the ${kind} database files`);
        expectNoSecret(raw, generated.secret, `the ${kind} database files`);
      }
    });

    it('rotating the ENCRYPTION key: A → [B, A] + reencryptSecrets() → rows say v1.B. → only [B] still delivers, verifiable with the original signing secret', async () => {
      const db = await freshDatabase();
      const target = await receiver();

      app = await bootStored(db, [KEY_A]);
      const { subscription, secret } = await app.get(WebhookSubscriptionManager).create({ url: `${target.url}/rotate`, events: [EVENT] });
      expect((await rows(db))[0]!.secrets.startsWith('v1.A.')).toBe(true);
      await app.close();

      app = await bootStored(db, [KEY_B, KEY_A]);
      expect(await app.get(WebhookStore).reencryptSecrets()).toBe(1);
      expect(await app.get(WebhookStore).reencryptSecrets()).toBe(0); // idempotent
      const reencrypted = (await rows(db))[0]!.secrets;
      expect(reencrypted.startsWith('v1.B.')).toBe(true);
      expectNoSecret(reencrypted, secret, 'the re-encrypted column');
      await app.close();

      app = await bootStored(db, [KEY_B]);
      const attempt = await deliver(subscription.id);
      expect(attempt.status).toBe('successful');
      expect(target.requests).toHaveLength(1);
      const request = target.requests[0]!;
      expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
      await app.close();

      // Control: the old key alone no longer opens the row, so the row really was re-encrypted.
      app = await bootStored(db, [KEY_A]);
      const refused = await deliver(subscription.id);
      expect(refused).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.SigningSecretUnreadable });
      expect(target.requests).toHaveLength(1);
      expectNoSecret(JSON.stringify(refused), secret, 'the failed attempt');
    });

    it('a secrets value copied onto another subscription id fails to decrypt (the id is authenticated): nothing is sent for it', async () => {
      const db = await freshDatabase();
      const target = await receiver();
      app = await bootStored(db, [KEY_A]);
      const subscriptions = app.get(WebhookSubscriptionManager);
      const victim = await subscriptions.create({ url: `${target.url}/victim`, events: [EVENT] });
      const attacker = await subscriptions.create({ url: `${target.url}/attacker`, events: [EVENT] });
      await app.close();

      const secretsOf = async (id: string) =>
        ((await db.query('SELECT secrets FROM webhook_subscription WHERE id = ?', [id])) as Array<{ secrets: string }>).map((r) => r.secrets);
      const [victimSecrets] = await secretsOf(victim.subscription.id);
      expect(victimSecrets).toMatch(/^v1\.A\./);
      expect(await secretsOf(attacker.subscription.id)).not.toEqual([victimSecrets]);
      await db.query('UPDATE webhook_subscription SET secrets = ? WHERE id = ?', [victimSecrets, attacker.subscription.id]);
      expect(await secretsOf(attacker.subscription.id)).toEqual([victimSecrets]);

      app = await bootStored(db, [KEY_A]);
      app.get(EventEmitter2).emit(EVENT, { id: 'o-1' });
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      const [attackerAttempt] = await app.get(WebhookDeliveryManager).listAttempts(attacker.subscription.id);
      const [victimAttempt] = await app.get(WebhookDeliveryManager).listAttempts(victim.subscription.id);

      // The victim's own row still works and is signed with the victim's secret.
      expect(victimAttempt!.status).toBe('successful');
      // The copied row does not decrypt under the other id: the try fails locally, nothing is sent for it.
      expect(attackerAttempt).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.SigningSecretUnreadable });
      expect(target.requests.map((r) => r.path)).toEqual(['/victim']);
      expect(() => new Webhook(victim.secret).verify(target.requests[0]!.body, target.requests[0]!.headers)).not.toThrow();
      expect(attackerAttempt!.internal.exceptionHistory.join('\n')).toMatch(/decrypt/i);
      const everything = JSON.stringify([attackerAttempt, victimAttempt]);
      expectNoSecret(everything, victim.secret, 'attempt records');
      expectNoSecret(everything, attacker.secret, 'attempt records');
    });
  });
});
