import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CreateWebhookSubscriptionInput,
  type WebhookDeclarationsSyncedEvent,
  WebhookDeclaredSubscriptions,
  WebhookDeliveryManager,
  WebhookEvents,
  WebhookPayload,
  WebhookScopes,
  type WebhookSubscription,
  WebhookSubscriptionManager,
} from 'nest-webhooks';
import type { TestDatabase } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, DATABASE_STORES, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * `nti.webhooks`' ZCML-persistent subscriptions as subscriptions declared in configuration (scenarios 53–61): the
 * application restarts with changed declarations, and every start syncs them with the store. One story per database,
 * in order, as the original's doctest tells it.
 */

@WebhookPayload('declared.ContentContainer')
class ContentContainer {
  constructor(readonly location: string | null = null) {}
}

class Folder extends ContentContainer {}

const resolve = (payload: unknown) => (payload as { location?: string | null }).location ?? null;
const SECRET = `whsec_${Buffer.alloc(32, 4).toString('base64')}`;

describe.each(STORES)('declared subscriptions: scenarios 53–61 (%s store)', (store) => {
  // The memory store keeps nothing across a restart: the steps that restart with changed declarations need a database.
  const restarts = store !== 'memory';

  let database: TestDatabase | undefined;
  let receiver: TestReceiver;
  let app: INestApplication | undefined;
  const synced: WebhookDeclarationsSyncedEvent[] = [];
  const deactivated: Array<{ id: string; reason: string }> = [];

  const declaration = (path: string, events = ['*.updated']): CreateWebhookSubscriptionInput => ({
    scope: '/Application',
    url: `${receiver.url}${path}`,
    payloadType: 'declared.ContentContainer',
    events,
    secret: SECRET,
  });

  beforeAll(async () => {
    database = await storeFor(store);
    receiver = await TestReceiver.start();
  });

  afterAll(async () => {
    await app?.close();
    await receiver.close();
    await database?.drop();
  });

  /** Starts the application with these declarations (after closing the previous one), recording what the sync says. */
  async function restart(declaredSubscriptions: CreateWebhookSubscriptionInput[], init = true) {
    await app?.close();
    app = await createWebhooksApp({ database, init: false, webhooks: { declaredSubscriptions, scopes: { resolve }, delivery: { retrySchedule: [] } } });
    app.get(EventEmitter2).on(WebhookEvents.DeclarationsSynced, (event: WebhookDeclarationsSyncedEvent) => synced.push(event));
    app.get(EventEmitter2).on(WebhookEvents.SubscriptionDeactivated, (event: { subscription: WebhookSubscription; reason: string }) =>
      deactivated.push({ id: event.subscription.id, reason: event.reason }),
    );
    if (init) await app.init();
    return { subscriptions: app.get(WebhookSubscriptionManager), declared: app.get(WebhookDeclaredSubscriptions), delivery: app.get(WebhookDeliveryManager) };
  }

  const declaredSubscriptions = () => app!.get(WebhookSubscriptionManager).list({ source: 'declared' });
  const attemptsOf = async (id: string) => (await app!.get(WebhookDeliveryManager).listAttempts(id)).length;
  let original: WebhookSubscription;

  it('scenario 53: nothing is written before start-up, and an invalid declaration fails the start before anything is', async () => {
    await restart([declaration('/hooks')], false);
    const stored = async () => (database ? database.query('SELECT id FROM webhook_subscription') : []);
    expect(await stored()).toEqual([]);
    await app!.close();
    app = undefined;
    for (const bad of [{ ...declaration('/hooks'), scope: 'relative' }, { ...declaration('/hooks'), payloadType: 'no.such.Type' }, { ...declaration('/hooks'), dialect: 'nope' }]) {
      await expect(restart([bad])).rejects.toThrow();
      app = undefined;
    }
    expect(await stored()).toEqual([]);
  });

  it('scenario 54: the start syncs it: one active declared subscription, generation 1, a synced event; API subscriptions are not touched', async () => {
    const { subscriptions, declared } = await restart([declaration('/hooks')]);
    const [only, ...rest] = await declaredSubscriptions();
    expect(rest).toEqual([]);
    original = only!;
    expect(original).toMatchObject({ source: 'declared', scope: '/Application', url: `${receiver.url}/hooks`, active: true, statusMessage: 'Active' });
    expect((await declared.state()).generation).toBe(1);
    expect(synced.at(-1)).toMatchObject({ generation: 1, added: [original.id], deactivated: [], kept: [] });

    const { subscription: api } = await subscriptions.create(declaration('/hooks'));
    expect((await declared.sync()).kept).toEqual([original.id]);
    expect(await subscriptions.get(api.id)).toMatchObject({ source: 'persistent', active: true });
    await subscriptions.delete(api.id);
  });

  it.runIf(restarts)('scenario 55: a restart with the same declarations (another order of events) writes nothing', async () => {
    const { declared } = await restart([declaration('/hooks', ['*.updated', '*.updated'])]);
    const [same] = await declaredSubscriptions();
    expect(same).toEqual(original);
    expect(synced.at(-1)).toMatchObject({ generation: 1, added: [], kept: [original.id] });
    expect(await declared.sync()).toMatchObject({ generation: 1, added: [], deactivated: [] });
  });

  const emit = (payload: unknown) => app!.get(EventEmitter2).emit('folder.updated', payload);
  const settle = () => app!.get(WebhookDeliveryManager).waitForPendingDeliveries();

  it('scenario 56: an unlocated folder\'s event published while /Application is current reaches it', async () => {
    app!.get(WebhookScopes).run('/Application', () => emit(new Folder()));
    await settle();
    expect(await attemptsOf(original.id)).toBe(1);
  });

  it('scenario 57: with no current scope, events of the container and of a folder inside it reach it (3 in all)', async () => {
    emit(new ContentContainer('/Application'));
    emit(new Folder('/Application/folder'));
    await settle();
    expect(await attemptsOf(original.id)).toBe(3);
  });

  it('scenario 58: an unlocated folder, or one in another scope, with no current scope, adds nothing', async () => {
    emit(new Folder());
    emit(new Folder('/Other'));
    await settle();
    expect(await attemptsOf(original.id)).toBe(3);
  });

  it.runIf(restarts)('scenario 59: a second declaration adds a subscription; the first keeps its id and attempts; generation 2', async () => {
    await restart([declaration('/hooks'), declaration('/another/path')]);
    const all = await declaredSubscriptions();
    expect(all).toHaveLength(2);
    expect(all.find((s) => s.id === original.id)).toMatchObject({ active: true });
    expect(await attemptsOf(original.id)).toBe(3);
    expect(synced.at(-1)).toMatchObject({ generation: 2, kept: [original.id] });
    expect(synced.at(-1)!.added).toHaveLength(1);
  });

  it.runIf(restarts)('scenario 60: dropping the original deactivates it (attempts kept, reason declaration-removed) and adds the new one; generation 3', async () => {
    await restart([declaration('/ThisIsNew'), declaration('/another/path')]);
    const all = await declaredSubscriptions();
    expect(all).toHaveLength(3);
    expect(all.find((s) => s.id === original.id)).toMatchObject({ active: false });
    expect(await attemptsOf(original.id)).toBe(3);
    expect(deactivated.at(-1)).toEqual({ id: original.id, reason: 'declaration-removed' });
    expect(all.filter((s) => s.active).map((s) => s.url).sort()).toEqual([`${receiver.url}/ThisIsNew`, `${receiver.url}/another/path`]);
    expect(synced.at(-1)!.generation).toBe(3);
  });

  it.runIf(restarts)('scenario 61: restoring it creates a new subscription (the old one stays inactive); removing it again deactivates the active one', async () => {
    await restart([declaration('/hooks'), declaration('/ThisIsNew'), declaration('/another/path')]);
    const restored = (await declaredSubscriptions()).find((s) => s.url === `${receiver.url}/hooks` && s.active)!;
    expect(restored.id).not.toBe(original.id);
    expect(await attemptsOf(restored.id)).toBe(0);
    expect(await app!.get(WebhookSubscriptionManager).get(original.id)).toMatchObject({ active: false });
    expect(synced.at(-1)!.generation).toBe(4);

    await restart([declaration('/ThisIsNew'), declaration('/another/path')]);
    expect(await app!.get(WebhookSubscriptionManager).get(restored.id)).toMatchObject({ active: false });
    expect(synced.at(-1)).toMatchObject({ generation: 5, deactivated: [restored.id] });
  });

  it.runIf(restarts)('a declared subscription cannot be updated; one deleted by hand is not recreated', async () => {
    const subscriptions = app!.get(WebhookSubscriptionManager);
    const [active] = (await declaredSubscriptions()).filter((s) => s.active);
    await expect(subscriptions.update(active!.id, { description: 'x' })).rejects.toThrow(/declared in configuration/);
    await subscriptions.delete(active!.id);
    await restart([declaration('/ThisIsNew'), declaration('/another/path')]);
    expect(synced.at(-1)!.missing).toHaveLength(1);
    expect((await declaredSubscriptions()).filter((s) => s.active)).toHaveLength(1);
  });
});

describe.each(DATABASE_STORES.filter((kind) => kind === 'postgres'))('declared subscriptions, several instances at once (%s)', (store) => {
  it('two instances starting together create each declaration once and raise the generation once', async () => {
    const database = await storeFor(store);
    const receiver = await TestReceiver.start();
    const declaredSubscriptions = [{ scope: '/Application', url: `${receiver.url}/hooks`, events: ['**'], secret: SECRET }];
    // The tables first (concurrent migrations are runMigrationsExclusively's subject, not this test's).
    await (await createWebhooksApp({ database })).close();
    const apps = await Promise.all([0, 1].map(() => createWebhooksApp({ database, webhooks: { declaredSubscriptions } })));
    try {
      expect(await apps[0]!.get(WebhookSubscriptionManager).list({ source: 'declared' })).toHaveLength(1);
      expect((await apps[1]!.get(WebhookDeclaredSubscriptions).state()).generation).toBe(1);
    } finally {
      for (const app of apps) await app.close();
      await receiver.close();
      await database!.drop();
    }
  });
});
