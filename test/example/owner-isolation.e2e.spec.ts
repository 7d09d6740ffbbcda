import { randomUUID } from 'node:crypto';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { allRows, rowById } from '../support/example-database.js';
import { BOB_KEY, startExampleApp, type RunningExampleApp } from '../support/example-app.js';
import { DATABASES } from '../support/databases.js';
import { TestReceiver, type ReceivedRequest } from '../support/receiver.js';

/**
 * The example app's contract: "another owner's objects are 404". Alice (ALICE_KEY) owns subscriptions, attempts and orders;
 * Bob (BOB_KEY) must not be able to see or touch any of them through any route that takes an id, must get
 * exactly the answer an unknown id gets (so ids reveal nothing), and must never be sent events about them.
 */
describe.each(DATABASES)('example app: one owner cannot see, change or receive another owner’s objects (%s)', (database) => {
  let api: RunningExampleApp;
  let receiver: TestReceiver;

  /** Alice's active subscription (all events), her deactivated one, Bob's (all events) and one order each. */
  let aliceActive: { id: string; secret: string };
  let aliceInactive: { id: string; secret: string };
  let bobs: { id: string; secret: string };
  let aliceOrder: { id: string };
  let bobOrder: { id: string };
  let aliceAttemptIds: string[];

  const asBob = { key: BOB_KEY };
  const settle = () => api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();
  const eventsAt = (path: string) =>
    receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as { type: string; data: { id?: string; subscriptionId?: string } });

  async function create(key: string | undefined, body: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const response = await api.request('POST', '/webhooks/subscriptions', { key, body });
    expect(response.status).toBe(201);
    return response.body;
  }

  async function placeOrder(key: string | undefined, item: string): Promise<{ id: string }> {
    const response = await api.request('POST', '/orders', { key, body: { item, quantity: 1 } });
    expect(response.status).toBe(201);
    return response.body;
  }

  beforeEach(async () => {
    receiver = await TestReceiver.start();
    api = await startExampleApp({}, { database });
    aliceActive = await create(undefined, { url: `${receiver.url}/alice`, description: 'alice main', metadata: { team: 'alice' } });
    aliceInactive = await create(undefined, { url: `${receiver.url}/alice-inactive`, events: ['order.deleted'], description: 'alice spare' });
    expect((await api.request('POST', `/webhooks/subscriptions/${aliceInactive.id}/deactivate`)).status).toBe(200);
    bobs = await create(BOB_KEY, { url: `${receiver.url}/bob` });
    aliceOrder = await placeOrder(undefined, 'alice-book');
    bobOrder = await placeOrder(BOB_KEY, 'bob-pen');
    expect((await api.request('POST', `/webhooks/subscriptions/${aliceActive.id}/test`)).status).toBe(202);
    await settle();
    const page = await api.request('GET', `/webhooks/subscriptions/${aliceActive.id}/attempts`);
    expect(page.status).toBe(200);
    aliceAttemptIds = page.body.data.map((a: { id: string }) => a.id);
    expect(page.body.data.map((a: { eventName: string }) => a.eventName).sort()).toEqual(['order.created', 'webhook.test']);
  });

  afterEach(async () => {
    await api.close();
    await receiver.close();
  });

  /** Everything Alice can observe about her objects, through her own requests and in the stored rows. */
  async function aliceView() {
    const get = (path: string) => api.request('GET', path);
    return {
      active: await get(`/webhooks/subscriptions/${aliceActive.id}`),
      inactive: await get(`/webhooks/subscriptions/${aliceInactive.id}`),
      list: await get('/webhooks/subscriptions'),
      attempts: await get(`/webhooks/subscriptions/${aliceActive.id}/attempts`),
      inactiveAttempts: await get(`/webhooks/subscriptions/${aliceInactive.id}/attempts`),
      attemptDetails: await Promise.all(aliceAttemptIds.map((id) => get(`/webhooks/attempts/${id}`))),
      rows: {
        active: await rowById(api.database, 'webhook_subscription', aliceActive.id),
        inactive: await rowById(api.database, 'webhook_subscription', aliceInactive.id),
        attempts: (await allRows(api.database, 'webhook_attempt')).filter((a) => a.subscription_id === aliceActive.id || a.subscription_id === aliceInactive.id),
        order: await rowById(api.database, 'example_order', aliceOrder.id),
      },
    };
  }

  it('answers Bob 404 on every id route for Alice’s objects, exactly as for an unknown id, and changes nothing', async () => {
    const unknownSubscription = randomUUID();
    const unknownAttempt = randomUUID();
    const unknownOrder = randomUUID();
    const attemptId = aliceAttemptIds[0]!;

    // Every route of the example app that takes an id, with a body that would be valid for the owner.
    // [label, method, path with Alice's id, the same path with an unknown id, body]
    const routes: Array<[string, string, string, string, unknown]> = [
      ['GET subscription', 'GET', `/webhooks/subscriptions/${aliceActive.id}`, `/webhooks/subscriptions/${unknownSubscription}`, undefined],
      ['GET inactive subscription', 'GET', `/webhooks/subscriptions/${aliceInactive.id}`, `/webhooks/subscriptions/${unknownSubscription}`, undefined],
      [
        'PATCH subscription (redirect to Bob)',
        'PATCH',
        `/webhooks/subscriptions/${aliceActive.id}`,
        `/webhooks/subscriptions/${unknownSubscription}`,
        { url: `${receiver.url}/bob`, description: 'bob was here', events: ['order.*'], metadata: { owner: 'bob' } },
      ],
      // A body the library would refuse (unknown dialect): Bob still learns nothing beyond "not found".
      ['PATCH subscription (library-invalid body)', 'PATCH', `/webhooks/subscriptions/${aliceActive.id}`, `/webhooks/subscriptions/${unknownSubscription}`, { dialect: 'no-such-dialect' }],
      ['activate', 'POST', `/webhooks/subscriptions/${aliceInactive.id}/activate`, `/webhooks/subscriptions/${unknownSubscription}/activate`, undefined],
      ['deactivate', 'POST', `/webhooks/subscriptions/${aliceActive.id}/deactivate`, `/webhooks/subscriptions/${unknownSubscription}/deactivate`, undefined],
      ['rotate-secret (default overlap)', 'POST', `/webhooks/subscriptions/${aliceActive.id}/rotate-secret`, `/webhooks/subscriptions/${unknownSubscription}/rotate-secret`, {}],
      ['rotate-secret (no overlap)', 'POST', `/webhooks/subscriptions/${aliceActive.id}/rotate-secret`, `/webhooks/subscriptions/${unknownSubscription}/rotate-secret`, { overlapSeconds: 0 }],
      ['test', 'POST', `/webhooks/subscriptions/${aliceActive.id}/test`, `/webhooks/subscriptions/${unknownSubscription}/test`, undefined],
      ['list attempts', 'GET', `/webhooks/subscriptions/${aliceActive.id}/attempts`, `/webhooks/subscriptions/${unknownSubscription}/attempts`, undefined],
      [
        'list attempts (filtered, paged)',
        'GET',
        `/webhooks/subscriptions/${aliceActive.id}/attempts?status=successful&limit=1`,
        `/webhooks/subscriptions/${unknownSubscription}/attempts?status=successful&limit=1`,
        undefined,
      ],
      ['GET attempt', 'GET', `/webhooks/attempts/${attemptId}`, `/webhooks/attempts/${unknownAttempt}`, undefined],
      ['redeliver attempt', 'POST', `/webhooks/attempts/${attemptId}/redeliver`, `/webhooks/attempts/${unknownAttempt}/redeliver`, undefined],
      ['PATCH order', 'PATCH', `/orders/${aliceOrder.id}`, `/orders/${unknownOrder}`, { item: 'stolen', quantity: 99 }],
      ['DELETE order', 'DELETE', `/orders/${aliceOrder.id}`, `/orders/${unknownOrder}`, undefined],
      ['DELETE inactive subscription', 'DELETE', `/webhooks/subscriptions/${aliceInactive.id}`, `/webhooks/subscriptions/${unknownSubscription}`, undefined],
      ['DELETE subscription', 'DELETE', `/webhooks/subscriptions/${aliceActive.id}`, `/webhooks/subscriptions/${unknownSubscription}`, undefined],
    ];

    const before = await aliceView();
    const requestsBefore = receiver.requests.length;

    const answers: Array<{ route: string; bobOnAlice: unknown; bobOnUnknown: unknown; aliceOnUnknown: unknown }> = [];
    for (const [route, method, ownedPath, unknownPath, body] of routes) {
      const bobOnAlice = await api.request(method, ownedPath, { ...asBob, body });
      const bobOnUnknown = await api.request(method, unknownPath, { ...asBob, body });
      const aliceOnUnknown = await api.request(method, unknownPath, { body });
      answers.push({ route, bobOnAlice, bobOnUnknown, aliceOnUnknown });
    }
    // One assertion over all routes, so a failure lists every route that leaks, not just the first.
    const leaks = answers.filter(
      (a) =>
        (a.bobOnAlice as { status: number }).status !== 404 ||
        JSON.stringify(a.bobOnAlice) !== JSON.stringify(a.bobOnUnknown) ||
        JSON.stringify(a.bobOnUnknown) !== JSON.stringify(a.aliceOnUnknown),
    );
    expect(leaks).toEqual([]);
    for (const a of answers) expect(a.bobOnAlice, a.route).toMatchObject({ status: 404, body: { statusCode: 404, error: 'Not Found', message: 'Not Found' } });

    await settle();
    const after = await aliceView();
    expect(after).toEqual(before);
    expect(after.active.body).toMatchObject({ active: true, url: `${receiver.url}/alice`, description: 'alice main', metadata: { team: 'alice' }, ownerId: 'alice' });
    expect(after.inactive.body).toMatchObject({ active: false, ownerId: 'alice' });
    expect(after.rows.order).toMatchObject({ item: 'alice-book', quantity: 1, owner_id: 'alice' });

    // Bob's test send, redelivery and order changes sent nothing anywhere.
    await settle();
    expect(receiver.requests.slice(requestsBefore)).toEqual([]);

    // Bob's rotations did not happen: a new event for Alice is signed once, with her original secret only.
    const order = await placeOrder(undefined, 'alice-lamp');
    await settle();
    const delivered = receiver.requests.slice(requestsBefore);
    expect(delivered.map((r) => r.path)).toEqual(['/alice']);
    const [delivery] = delivered as [ReceivedRequest];
    expect(new StandardWebhook(aliceActive.secret).verify(delivery.body, delivery.headers)).toMatchObject({ type: 'order.created', data: { id: order.id } });
    expect(delivery.headers['webhook-signature']!.split(' ')).toHaveLength(1);

    // And Alice herself can still do everything Bob could not.
    expect((await api.request('PATCH', `/orders/${aliceOrder.id}`, { body: { quantity: 2 } })).status).toBe(200);
    expect((await api.request('POST', `/webhooks/subscriptions/${aliceInactive.id}/activate`)).status).toBe(200);
    expect((await api.request('POST', `/webhooks/attempts/${attemptId}/redeliver`)).status).toBe(202);
    expect((await api.request('DELETE', `/webhooks/subscriptions/${aliceActive.id}`)).status).toBe(204);
  });

  it('lists only the caller’s own subscriptions', async () => {
    const bobList = await api.request('GET', '/webhooks/subscriptions', asBob);
    expect(bobList.status).toBe(200);
    expect(bobList.body.data.map((s: { id: string }) => s.id)).toEqual([bobs.id]);
    expect(bobList.body.data.every((s: { ownerId: string }) => s.ownerId === 'bob')).toBe(true);
    expect(JSON.stringify(bobList.body)).not.toContain('alice');

    const aliceList = await api.request('GET', '/webhooks/subscriptions');
    expect(aliceList.body.data.map((s: { id: string }) => s.id).sort()).toEqual([aliceActive.id, aliceInactive.id].sort());
    expect(aliceList.body.data.every((s: { ownerId: string }) => s.ownerId === 'alice')).toBe(true);

    // Paging never crosses owners: Bob's cursor after his only subscription leads to nothing of Alice's.
    const bobPage = await api.request('GET', '/webhooks/subscriptions?limit=1', asBob);
    expect(bobPage.body).toMatchObject({ data: [{ id: bobs.id }], nextCursor: null });
    const aliceFirst = await api.request('GET', '/webhooks/subscriptions?limit=1');
    const bobWithAliceCursor = await api.request('GET', `/webhooks/subscriptions?after=${aliceFirst.body.nextCursor}`, asBob);
    expect(bobWithAliceCursor.status).toBe(200);
    expect(JSON.stringify(bobWithAliceCursor.body)).not.toContain('alice');

    // Bob's own subscription routes work for him (the 404s above are about ownership, not about Bob).
    expect((await api.request('GET', `/webhooks/subscriptions/${bobs.id}`, asBob)).body).toMatchObject({ id: bobs.id, ownerId: 'bob' });
    const bobAttempts = await api.request('GET', `/webhooks/subscriptions/${bobs.id}/attempts`, asBob);
    expect(bobAttempts.status).toBe(200);
    expect(bobAttempts.body.data.map((a: { id: string }) => a.id)).not.toEqual(expect.arrayContaining([aliceAttemptIds[0]]));
    // ... and Alice gets the same 404 on Bob's objects.
    expect((await api.request('GET', `/webhooks/subscriptions/${bobs.id}`)).status).toBe(404);
    expect((await api.request('PATCH', `/orders/${bobOrder.id}`, { body: { quantity: 5 } })).status).toBe(404);
  });

  it('delivers events about an order only to its owner’s subscriptions, never to the other owner’s', async () => {
    // Both active subscriptions take all events and point at the same receiver; the path says whose it is.
    const alicesSecond = await placeOrder(undefined, 'alice-chair');
    expect((await api.request('PATCH', `/orders/${alicesSecond.id}`, { body: { quantity: 4 } })).status).toBe(200);
    expect((await api.request('DELETE', `/orders/${alicesSecond.id}`)).status).toBe(204);
    const bobsSecond = await placeOrder(BOB_KEY, 'bob-desk');
    expect((await api.request('PATCH', `/orders/${bobsSecond.id}`, { ...asBob, body: { item: 'bob-table' } })).status).toBe(200);
    expect((await api.request('DELETE', `/orders/${bobsSecond.id}`, asBob)).status).toBe(204);
    expect((await api.request('POST', `/webhooks/subscriptions/${bobs.id}/test`, asBob)).status).toBe(202);
    await settle();

    const summary = (path: string) => eventsAt(path).map((e) => `${e.type} ${e.data.id ?? e.data.subscriptionId}`).sort();
    expect(summary('/alice')).toEqual(
      [
        `order.created ${aliceOrder.id}`,
        `webhook.test ${aliceActive.id}`,
        `order.created ${alicesSecond.id}`,
        `order.updated ${alicesSecond.id}`,
        `order.deleted ${alicesSecond.id}`,
      ].sort(),
    );
    expect(summary('/bob')).toEqual(
      [`order.created ${bobOrder.id}`, `order.created ${bobsSecond.id}`, `order.updated ${bobsSecond.id}`, `order.deleted ${bobsSecond.id}`, `webhook.test ${bobs.id}`].sort(),
    );
    // Alice's deactivated subscription got nothing; nothing went anywhere else.
    expect(receiver.requests.filter((r) => r.path !== '/alice' && r.path !== '/bob')).toEqual([]);

    // Each owner's deliveries are signed with that owner's secret only.
    for (const r of receiver.requests) {
      const [mine, theirs] = r.path === '/alice' ? [aliceActive.secret, bobs.secret] : [bobs.secret, aliceActive.secret];
      expect(() => new StandardWebhook(mine).verify(r.body, r.headers)).not.toThrow();
      expect(() => new StandardWebhook(theirs).verify(r.body, r.headers)).toThrow();
    }

    // The attempts each owner can list are about their own orders only.
    const bobAttempts = (await api.request('GET', `/webhooks/subscriptions/${bobs.id}/attempts`, asBob)).body.data as Array<{ id: string; subscriptionId: string }>;
    expect(bobAttempts).toHaveLength(5);
    expect(bobAttempts.every((a) => a.subscriptionId === bobs.id)).toBe(true);
    for (const a of bobAttempts) {
      const detail = await api.request('GET', `/webhooks/attempts/${a.id}`, asBob);
      expect(detail.status).toBe(200);
      expect(detail.body.request.body).not.toContain('alice');
      expect((await api.request('GET', `/webhooks/attempts/${a.id}`)).status).toBe(404);
    }
  });
});
