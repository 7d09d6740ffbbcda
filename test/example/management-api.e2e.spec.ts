import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { eventually, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { DATABASES } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';

describe.each(DATABASES)('example app: subscribe, order, verified delivery, attempts, redeliver (over HTTP only) (%s)', (database) => {
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

  it('delivers order.created signed for both verifiers, records it, and redelivers with the same webhook-id', async () => {
    const created = await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/hooks`, events: ['order.*'], description: 'orders' } });
    expect(created.status).toBe(201);
    const { id, secret } = created.body;
    expect(secret).toMatch(/^whsec_/);
    expect(created.body).toMatchObject({ url: `${receiver.url}/hooks`, events: ['order.*'], ownerId: 'alice', active: true, statusMessage: 'Active' });

    const order = await api.request('POST', '/orders', { body: { item: 'book', quantity: 2 } });
    expect(order.status).toBe(201);
    await receiver.waitForRequests(1);

    const delivery = receiver.requests[0]!;
    const verified = new StandardWebhook(secret).verify(delivery.body, delivery.headers) as { type: string; data: { id: string; item: string } };
    expect(verified).toMatchObject({ type: 'order.created', data: { id: order.body.id, item: 'book', quantity: 2 } });
    expect(() => new SvixWebhook(secret).verify(delivery.body, delivery.headers)).not.toThrow();
    expect(() => new SvixWebhook(secret).verify(delivery.body.replace('book', 'boot'), delivery.headers)).toThrow();

    const attempts = await eventually(async () => {
      const page = await api.request('GET', `/webhooks/subscriptions/${id}/attempts`);
      expect(page.body.data[0]).toMatchObject({ status: 'successful', statusCode: 200, message: '200 OK' });
      return page.body;
    });
    expect(attempts.data).toHaveLength(1);
    const attemptId = attempts.data[0].id;
    expect(attempts.data[0].webhookId).toBe(delivery.headers['webhook-id']);

    const detail = await api.request('GET', `/webhooks/attempts/${attemptId}`);
    expect(detail.status).toBe(200);
    expect(detail.body.request.headers['webhook-signature']).toBe('[redacted]');
    expect(detail.body.response).toMatchObject({ statusCode: 200, reason: 'OK' });
    expect(detail.body).not.toHaveProperty('internal');

    const redelivered = await api.request('POST', `/webhooks/attempts/${attemptId}/redeliver`);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body).toMatchObject({ webhookId: delivery.headers['webhook-id'], subscriptionId: id, eventName: 'order.created' });
    expect(redelivered.body.id).not.toBe(attemptId);
    expect(Object.keys(redelivered.body).sort()).toEqual(Object.keys(attempts.data[0]).sort());
    await receiver.waitForRequests(2);
    const again = receiver.requests[1]!;
    expect(again.headers['webhook-id']).toBe(delivery.headers['webhook-id']);
    expect(again.body).toBe(delivery.body);
    expect(new StandardWebhook(secret).verify(again.body, again.headers)).toMatchObject({ type: 'order.created' });

    const successful = await eventually(async () => {
      const page = await api.request('GET', `/webhooks/subscriptions/${id}/attempts?status=successful`);
      expect(page.body.data).toHaveLength(2);
      return page.body.data;
    });
    expect(successful.map((a: { webhookId: string }) => a.webhookId)).toEqual([delivery.headers['webhook-id'], delivery.headers['webhook-id']]);
  });

  it('order.updated and order.deleted follow, and a test event reaches only the chosen subscription', async () => {
    const first = (await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/a` } })).body;
    const second = (await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/b`, events: ['order.deleted'] } })).body;
    const order = (await api.request('POST', '/orders', { body: { item: 'pen', quantity: 1 } })).body;
    expect((await api.request('PATCH', `/orders/${order.id}`, { body: { quantity: 3 } })).status).toBe(200);
    expect((await api.request('DELETE', `/orders/${order.id}`)).status).toBe(204);
    await receiver.waitForRequests(4);
    const seen = receiver.requests.map((r) => `${r.path} ${JSON.parse(r.body).type}`).sort();
    expect(seen).toEqual(['/a order.created', '/a order.deleted', '/a order.updated', '/b order.deleted']);

    const test = await api.request('POST', `/webhooks/subscriptions/${second.id}/test`);
    // The same attempt shape as a redelivery's answer and a list entry.
    expect(test).toMatchObject({ status: 202, body: { subscriptionId: second.id, eventName: 'webhook.test', status: 'pending', tries: 0 } });
    await receiver.waitForRequests(5);
    const testDelivery = receiver.requests[4]!;
    expect(testDelivery.path).toBe('/b');
    expect(new StandardWebhook(second.secret).verify(testDelivery.body, testDelivery.headers)).toMatchObject({ type: 'webhook.test' });
    expect(first.id).not.toBe(second.id);
  });

  it('pages attempts newest first with a cursor', async () => {
    const { id } = (await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url } })).body;
    for (let i = 0; i < 5; i++) await api.request('POST', `/webhooks/subscriptions/${id}/test`);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const first = (await api.request('GET', `/webhooks/subscriptions/${id}/attempts?limit=2`)).body;
    const second = (await api.request('GET', `/webhooks/subscriptions/${id}/attempts?limit=2&before=${first.nextCursor}`)).body;
    const third = (await api.request('GET', `/webhooks/subscriptions/${id}/attempts?limit=2&before=${second.nextCursor}`)).body;
    const ids = [...first.data, ...second.data, ...third.data].map((a: { id: string }) => a.id);
    expect(ids).toHaveLength(5);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(third.nextCursor).toBeNull();
  });

  it('lists subscriptions oldest first in pages of { data, nextCursor }, following the cursor to the end', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++) created.push((await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/${i}` } })).body.id);
    const all = await api.request('GET', '/webhooks/subscriptions');
    expect(all.body).toEqual({ data: expect.any(Array), nextCursor: null });
    expect(all.body.data.map((s: { id: string }) => s.id)).toEqual(created);

    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: { data: Array<{ id: string }>; nextCursor: string | null } } = await api.request(
        'GET',
        `/webhooks/subscriptions?limit=2${cursor ? `&after=${cursor}` : ''}`,
      );
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      ids.push(...page.body.data.map((s) => s.id));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(ids).toEqual(created);
    expect(pages).toBe(3);

    // A cursor stays valid when its subscription is deleted, and new subscriptions show up on a later page.
    const second = await api.request('GET', '/webhooks/subscriptions?limit=2');
    expect((await api.request('DELETE', `/webhooks/subscriptions/${created[1]}`)).status).toBe(204);
    const newest = (await api.request('POST', '/webhooks/subscriptions', { body: { url: `${receiver.url}/new` } })).body.id;
    const rest = await api.request('GET', `/webhooks/subscriptions?after=${second.body.nextCursor}`);
    expect(rest.body.data.map((s: { id: string }) => s.id)).toEqual([...created.slice(2), newest]);

    const refused = await api.request('GET', '/webhooks/subscriptions?after=bogus');
    expect(refused).toMatchObject({ status: 400, body: { statusCode: 400, error: 'Bad Request', field: 'after' } });
  });

  it('refuses to redeliver an attempt still being retried, and shows elapsed times in whole milliseconds', async () => {
    const failing = await TestReceiver.start({ responder: (_request, res) => void res.writeHead(503).end() });
    try {
      const { id } = (await api.request('POST', '/webhooks/subscriptions', { body: { url: `${failing.url}/down`, retrySchedule: [3_600_000] } })).body;
      expect((await api.request('POST', `/webhooks/subscriptions/${id}/test`)).status).toBe(202);
      await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      const [pending] = (await api.request('GET', `/webhooks/subscriptions/${id}/attempts`)).body.data;
      expect(pending.status).toBe('pending');

      const refused = await api.request('POST', `/webhooks/attempts/${pending.id}/redeliver`);
      expect(refused).toMatchObject({ status: 409, body: { statusCode: 409, error: 'Conflict', message: expect.stringMatching(/still pending/) } });
      expect((await api.request('GET', `/webhooks/subscriptions/${id}/attempts`)).body.data).toHaveLength(1);

      const detail = (await api.request('GET', `/webhooks/attempts/${pending.id}`)).body;
      expect(Number.isInteger(detail.response.elapsedMs)).toBe(true);
      expect(detail.history.every((t: { elapsedMs: number }) => Number.isInteger(t.elapsedMs))).toBe(true);
    } finally {
      await failing.close();
    }
  });

  it('an empty PATCH changes nothing, not even updatedAt', async () => {
    const created = (await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url } })).body;
    const patched = await api.request('PATCH', `/webhooks/subscriptions/${created.id}`, { body: {} });
    expect(patched.status).toBe(200);
    expect(patched.body.updatedAt).toBe(created.updatedAt);
    expect((await api.request('GET', `/webhooks/subscriptions/${created.id}`)).body.updatedAt).toBe(created.updatedAt);
  });

  it('deactivate, activate, update and delete work and answer with the subscription', async () => {
    const { id } = (await api.request('POST', '/webhooks/subscriptions', { body: { url: receiver.url } })).body;
    expect((await api.request('POST', `/webhooks/subscriptions/${id}/deactivate`)).body).toMatchObject({ active: false, statusMessage: 'Deactivated' });
    await api.request('POST', '/orders', { body: { item: 'ignored', quantity: 1 } });
    expect((await api.request('POST', `/webhooks/subscriptions/${id}/activate`)).body).toMatchObject({ active: true, statusMessage: 'Active' });
    const patched = await api.request('PATCH', `/webhooks/subscriptions/${id}`, { body: { events: ['order.created'], description: 'changed' } });
    expect(patched.body).toMatchObject({ events: ['order.created'], description: 'changed' });
    const badUrl = await api.request('PATCH', `/webhooks/subscriptions/${id}`, { body: { url: 'https://10.0.0.1/' } });
    expect(badUrl.body).toMatchObject({ statusCode: 400, error: 'Bad Request', field: 'url', message: expect.stringMatching(/url/) });
    expect((await api.request('DELETE', `/webhooks/subscriptions/${id}`)).status).toBe(204);
    expect((await api.request('GET', `/webhooks/subscriptions/${id}`)).status).toBe(404);
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests).toHaveLength(0);
  });

  it('answers 401 without a valid key and serves /health and the OpenAPI document', async () => {
    const anonymous = await fetch(`${api.baseUrl}/webhooks/subscriptions`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
    expect(await anonymous.json()).toEqual({ statusCode: 401, error: 'Unauthorized', message: expect.stringMatching(/Bearer/) });
    expect((await api.request('GET', '/webhooks/subscriptions', { key: 'wrong-key-0123456789' })).status).toBe(401);
    const health = await api.request('GET', '/health', { key: null });
    expect(health).toMatchObject({
      status: 200,
      body: { status: 'ok', info: { database: { status: 'up' }, webhooks: { status: 'up', pending: 0, worker: true, queued: 0, active: 0 } } },
    });
    const doc = await api.request('GET', '/docs-json', { key: null });
    expect(doc.status).toBe(200);
    const paths = Object.keys(doc.body.paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/webhooks/subscriptions',
        '/webhooks/subscriptions/{id}',
        '/webhooks/subscriptions/{id}/activate',
        '/webhooks/subscriptions/{id}/deactivate',
        '/webhooks/subscriptions/{id}/rotate-secret',
        '/webhooks/subscriptions/{id}/test',
        '/webhooks/subscriptions/{id}/attempts',
        '/webhooks/attempts/{id}',
        '/webhooks/attempts/{id}/redeliver',
        '/orders',
        '/orders/{id}',
        '/health',
        '/metrics',
      ]),
    );
    expect(doc.body.paths['/webhooks/subscriptions'].post.security).toEqual([{ bearer: [] }]);
    expect(doc.body.components.schemas.CreateSubscriptionDto.required).toEqual(['url']);
    expect((await fetch(`${api.baseUrl}/docs`)).status).toBe(200);
  });
});
