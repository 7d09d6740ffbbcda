import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { ALICE_KEY, BOB_KEY, startExampleApp } from '../support/example-app.js';
import { ok, TestReceiver } from '../support/receiver.js';

const run = promisify(execFile);
const CLI = (name: string) => fileURLToPath(new URL(`../../dist/apps/example/cli/${name}.js`, import.meta.url));
const OLD_KEY = Buffer.alloc(32, 3).toString('base64');
const NEW_KEY = Buffer.alloc(32, 9).toString('base64');
const SUBSCRIPTIONS = 12;

/** Runs a built operator command against `database` as CI would (plain progress lines); returns its whole output. */
async function operatorCommand(name: string, database: TestDatabase, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout, stderr } = await run(process.execPath, [CLI(name), ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      CI: 'true',
      DATABASE_URL: database.url,
      WEBHOOKS_API_KEYS: `alice:${ALICE_KEY},bob:${BOB_KEY}`,
      WEBHOOKS_SECRET_KEY: OLD_KEY,
      ...env,
    },
  });
  return stdout + stderr;
}

describe.each(DATABASES)('operator commands with progress (%s)', (kind) => {
  let database: TestDatabase | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await receiver?.close();
    await database?.drop();
  });

  it('webhooks:recover queues every failed delivery again with its webhook-id; secrets:reencrypt re-encrypts every subscription; both report progress', async () => {
    database = await createTestDatabase(kind);
    receiver = await TestReceiver.start({ responder: ok(500) });
    const api = await startExampleApp({ WEBHOOKS_RETRY_SCHEDULE: 'none' }, { database });
    try {
      for (let i = 0; i < SUBSCRIPTIONS; i++) {
        expect((await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/s${i}`, events: ['order.*'] } })).status).toBe(201);
      }
      expect((await api.request('POST', '/orders', { body: { item: 'book', quantity: 1 } })).status).toBe(201);
      await receiver.waitForRequests(SUBSCRIPTIONS, 15_000);
      await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    } finally {
      await api.close();
    }
    const failed = await database.query("SELECT webhook_id FROM webhook_attempt WHERE status = 'failed'");
    expect(failed).toHaveLength(SUBSCRIPTIONS);

    const recovered = await operatorCommand('recover-deliveries', database, ['--since', '1h']);
    expect(recovered).toContain(`for ${SUBSCRIPTIONS} subscription(s)`);
    expect(recovered.match(/^Subscription \S+: 1\/1 \(100 %\) in \d+ s$/gm)).toHaveLength(SUBSCRIPTIONS);
    expect(recovered).toContain(`Queued ${SUBSCRIPTIONS} delivery(ies) again`);
    // Written for the workers (this command sends nothing), each with the webhook-id of the delivery it recovers.
    const pending = await database.query("SELECT webhook_id FROM webhook_attempt WHERE status = 'pending'");
    expect(pending.map((r) => r.webhook_id).sort()).toEqual(failed.map((r) => r.webhook_id).sort());

    const reencrypted = await operatorCommand('reencrypt-secrets', database, [], { WEBHOOKS_SECRET_KEY: NEW_KEY, WEBHOOKS_PREVIOUS_SECRET_KEYS: OLD_KEY });
    expect(reencrypted).toContain(`Subscriptions checked: ${SUBSCRIPTIONS}/${SUBSCRIPTIONS} (100 %) in`);
    expect(reencrypted).toContain(`Re-encrypted the signing secrets of ${SUBSCRIPTIONS} subscription(s) with the current key.`);
    const keyIds = new Set((await database.query('SELECT secrets FROM webhook_subscription')).map((r) => String(r.secrets).split('.')[1]));
    expect(keyIds.size).toBe(1);
    // Run again: nothing left to change.
    const again = await operatorCommand('reencrypt-secrets', database, [], { WEBHOOKS_SECRET_KEY: NEW_KEY, WEBHOOKS_PREVIOUS_SECRET_KEYS: OLD_KEY });
    expect(again).toContain('Re-encrypted the signing secrets of 0 subscription(s)');
  }, 60_000);

  it('refuses a --since that is neither a time nor a duration, saying how to call it', async () => {
    database = await createTestDatabase(kind);
    const failure = await operatorCommand('recover-deliveries', database, ['--since', 'yesterday']).catch((error: { stdout: string; stderr: string; code: number }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('Configuration error: --since "yesterday" is neither an ISO time nor a duration. usage: npm run webhooks:recover');
  });
});
