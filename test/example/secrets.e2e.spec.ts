import { randomBytes } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { eventually, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { DATABASES } from '../support/databases.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

const verifies = (secret: string, request: ReceivedRequest): boolean => {
  let standard = true;
  let svix = true;
  try {
    new StandardWebhook(secret).verify(request.body, request.headers);
  } catch {
    standard = false;
  }
  try {
    new SvixWebhook(secret).verify(request.body, request.headers);
  } catch {
    svix = false;
  }
  expect(svix).toBe(standard);
  return standard;
};

describe.each(DATABASES)('example app: signing secrets are write-only (%s)', (database) => {
  let api: RunningExampleApp;
  let receiver: TestReceiver;

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    api = await startExampleApp({}, { database });
  });
  afterEach(async () => {
    await api.close();
    await receiver.close();
  });

  it('shows the secret only in the create and rotate responses, never in reads, attempts or stored rows', async () => {
    const created = (await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url } })).body;
    const secrets: string[] = [created.secret];
    await api.request('POST', '/orders', { body: { item: 'book', quantity: 1 } });
    await receiver.waitForRequests(1);
    const rotated = await api.request('POST', `/webhooks/subscriptions/${created.id}/rotate-secret`, { body: {} });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    secrets.push(rotated.body.secret);
    await api.request('POST', `/webhooks/subscriptions/${created.id}/test`);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    const reads = [
      await api.request('GET', '/webhooks/subscriptions'),
      await api.request('GET', `/webhooks/subscriptions/${created.id}`),
      await api.request('PATCH', `/webhooks/subscriptions/${created.id}`, { body: { description: 'x' } }),
      await api.request('POST', `/webhooks/subscriptions/${created.id}/deactivate`),
      await api.request('POST', `/webhooks/subscriptions/${created.id}/activate`),
      await api.request('GET', `/webhooks/subscriptions/${created.id}/attempts`),
    ];
    const attemptIds: string[] = reads[5]!.body.data.map((a: { id: string }) => a.id);
    expect(attemptIds.length).toBe(2);
    for (const id of attemptIds) reads.push(await api.request('GET', `/webhooks/attempts/${id}`));
    for (const read of reads) {
      const text = JSON.stringify(read.body);
      for (const secret of secrets) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(secret.slice('whsec_'.length));
      }
      expect(read.body).not.toHaveProperty('secret');
    }

    // What is stored: attempt rows keep no signature and no secret; the subscription row holds only ciphertext.
    const query = (sql: string, params?: unknown[]) => api.database.query(sql, params);
    const dump = JSON.stringify([await query('SELECT * FROM webhook_attempt'), await query('SELECT * FROM webhook_subscription')]);
    for (const secret of secrets) {
      expect(dump).not.toContain(secret);
      expect(dump).not.toContain(secret.slice('whsec_'.length));
    }
    const [stored] = (await query('SELECT secrets FROM webhook_subscription WHERE id = ?', [created.id])) as Array<{ secrets: string }>;
    expect(stored!.secrets).toMatch(/^v1\.k[0-9a-f]{10}\./);
    for (const row of (await query('SELECT request FROM webhook_attempt')) as Array<{ request: string }>) {
      expect(JSON.parse(row.request).headers['webhook-signature']).toBe('[redacted]');
    }
  });

  it("a caller's own secret signs, is shown back only in the create and rotate answers, and a malformed one is refused", async () => {
    const own = `whsec_${randomBytes(32).toString('base64')}`;
    const created = await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url, secret: own } });
    expect(created).toMatchObject({ status: 201, body: { secret: own } });
    const { id } = created.body;
    await api.request('POST', `/webhooks/subscriptions/${id}/test`);
    await receiver.waitForRequests(1);
    expect(verifies(own, receiver.requests[0]!)).toBe(true);

    const ownNext = `whsec_${randomBytes(64).toString('base64')}`;
    const rotated = await api.request('POST', `/webhooks/subscriptions/${id}/rotate-secret`, { body: { overlapSeconds: 0, secret: ownNext } });
    expect(rotated).toMatchObject({ status: 200, body: { secret: ownNext } });
    await api.request('POST', `/webhooks/subscriptions/${id}/test`);
    await receiver.waitForRequests(2);
    expect(verifies(ownNext, receiver.requests[1]!)).toBe(true);
    expect(verifies(own, receiver.requests[1]!)).toBe(false);

    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const { data } = (await api.request('GET', `/webhooks/subscriptions/${id}/attempts`)).body;
    const reads = [await api.request('GET', '/webhooks/subscriptions'), await api.request('GET', `/webhooks/subscriptions/${id}`)];
    for (const attempt of data) reads.push(await api.request('GET', `/webhooks/attempts/${attempt.id}`));
    const dump = JSON.stringify([reads.map((r) => r.body), await api.database.query('SELECT * FROM webhook_subscription'), await api.database.query('SELECT * FROM webhook_attempt')]);
    for (const secret of [own, ownNext]) expect(dump).not.toContain(secret.slice('whsec_'.length));

    // Refused before anything changes: wrong prefix, too short, too long, not canonical base64 (the last one signs nothing).
    for (const secret of ['plain', `whsec_${randomBytes(16).toString('base64')}`, `whsec_${randomBytes(65).toString('base64')}`, ownNext.replace(/=+$/, '')]) {
      const refused = await api.request('POST', `/webhooks/subscriptions/${id}/rotate-secret`, { body: { secret } });
      expect(refused.body, secret).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'secret' });
      if (secret.length > 16) expect(JSON.stringify(refused.body)).not.toContain(secret.slice('whsec_'.length)); // not echoed
      expect((await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url, secret } })).body).toMatchObject({ statusCode: 400, field: 'secret' });
    }
    expect((await api.request('GET', '/webhooks/subscriptions')).body.data).toHaveLength(1);
    await api.request('POST', `/webhooks/subscriptions/${id}/test`);
    await receiver.waitForRequests(3);
    expect(verifies(ownNext, receiver.requests[2]!)).toBe(true);
  });

  it('subscription headers are sent, but their values are write-only like the secret', async () => {
    const token = 'Bearer receiver-token-0123456789';
    const created = await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url, headers: { authorization: token } } });
    expect(created.status).toBe(201);
    expect(created.body.headerNames).toEqual(['authorization']);
    expect(JSON.stringify(created.body)).not.toContain(token);
    await api.request('POST', `/webhooks/subscriptions/${created.body.id}/test`);
    await receiver.waitForRequests(1);
    expect(receiver.requests[0]!.headers.authorization).toBe(token);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const { data } = (await api.request('GET', `/webhooks/subscriptions/${created.body.id}/attempts`)).body;
    const detail = await api.request('GET', `/webhooks/attempts/${data[0].id}`);
    expect(detail.body.request.headers.authorization).toBe('[redacted]');
    for (const read of [await api.request('GET', `/webhooks/subscriptions/${created.body.id}`), await api.request('GET', '/webhooks/subscriptions'), detail]) {
      expect(JSON.stringify(read.body)).not.toContain('receiver-token');
    }
    const refused = await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url, headers: { host: 'evil.example' } } });
    expect(refused.body).toMatchObject({ statusCode: 400, field: 'headers', message: expect.stringMatching(/headers/) });
  });

  it('after rotation both secrets verify during the overlap, and only the new one after it', async () => {
    const { id, secret: oldSecret } = (await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url } })).body;
    const { secret: newSecret } = (await api.request('POST', `/webhooks/subscriptions/${id}/rotate-secret`, { body: { overlapSeconds: 2 } })).body;

    await api.request('POST', `/webhooks/subscriptions/${id}/test`);
    await receiver.waitForRequests(1);
    const during = receiver.requests[0]!;
    expect(during.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(verifies(oldSecret, during)).toBe(true);
    expect(verifies(newSecret, during)).toBe(true);

    // Past the overlap (real time: the app's own clock), only the new secret signs.
    await eventually(async () => {
      await api.request('POST', `/webhooks/subscriptions/${id}/test`);
      await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      const latest = receiver.requests.at(-1)!;
      expect(latest.headers['webhook-signature']!.split(' ')).toHaveLength(1);
    }, 10_000);
    const after = receiver.requests.at(-1)!;
    expect(verifies(newSecret, after)).toBe(true);
    expect(verifies(oldSecret, after)).toBe(false);
  });
});
