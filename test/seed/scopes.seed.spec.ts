import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InvalidWebhookSubscriptionError,
  type StaticWebhookSubscription,
  WebhookAuthorization,
  type WebhookAuthorizationRequest,
  WebhookAuthorizer,
  WebhookDeliveryManager,
  WebhookPayload,
  WebhookScopes,
  type WebhookSubscription,
  WebhookEvents,
  type WebhookOwnerRemovalFailedEvent,
  type WebhooksModuleOptions,
  WebhookPublisher,
  WebhookSubscriptionManager,
} from 'nest-webhooks';
import { WebhookResourceDiscriminator } from 'nest-webhooks/extensions';
import type { TestDatabase } from '../support/databases.js';
import { type Responder, TestReceiver } from '../support/receiver.js';
import { STATIC_SECRET } from '../support/seed-a-fixtures.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * `nti.webhooks`' site managers as scopes (scenarios 48–52, 62–63 and 74): a subscription lives in a scope (a path
 * such as `/NOAA/NWS/OUN`) and receives the events of objects in that scope or below it, and events published while
 * it or a scope below it is current. Siblings and descendants never fire.
 */

@WebhookPayload('scopes.Employee')
class Employee {
  constructor(
    readonly name: string,
    readonly location: string | null = null,
  ) {}
}

@WebhookPayload('scopes.ExternalizableEmployee')
class ExternalizableEmployee extends Employee {
  toWebhookPayload(): string {
    return this.name;
  }
}

/** Principals as the application knows them; the removal event carries one. */
class UserPrincipal {
  constructor(
    readonly prefix: string,
    readonly login: string,
    readonly location: string | null,
  ) {}
}

class InternalPrincipal {
  constructor(readonly name: string) {}
}

const officePrincipal = new UserPrincipal('nws.oun.', 'bob', '/NOAA/NWS/OUN');
const departmentPrincipal = new UserPrincipal('nws.', 'bob', '/NOAA/NWS');
const principalId = (p: unknown) => (p instanceof UserPrincipal ? p.prefix + p.login : null);

class Folder {
  constructor(readonly location: string | null = null) {}
}

const departmentBob = new ExternalizableEmployee('Bob', '/NOAA/NWS');
const officeBob = new ExternalizableEmployee('Bob', '/NOAA/NWS/OUN');
const resolve = (payload: unknown) => (payload as { location?: string | null }).location ?? null;

/** `/some/path` answers 200, `/another/path` 404. */
const byPath: Responder = (request, res) => void res.writeHead(request.path.startsWith('/some/path') ? 200 : 404).end();

describe.each(STORES)('scopes: scenarios 48–52, 62–63, 74 (%s store)', (store) => {
  let database: TestDatabase | undefined;
  let receiver: TestReceiver;
  const apps: INestApplication[] = [];

  beforeEach(async () => {
    database = await storeFor(store);
    receiver = await TestReceiver.start({ responder: byPath });
  });

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await receiver.close();
    await database?.drop();
  });

  async function start(
    options: {
      subscriptions?: StaticWebhookSubscription[];
      discriminator?: WebhookResourceDiscriminator;
      authorizer?: new () => WebhookAuthorizer;
      ownerRemoval?: WebhooksModuleOptions['ownerRemoval'];
    } = {},
  ) {
    const app = await createWebhooksApp({
      database,
      webhooks: {
        delivery: { retrySchedule: [] },
        scopes: { resolve },
        subscriptions: options.subscriptions,
        ownerRemoval: options.ownerRemoval,
        // Owned subscriptions here are about scopes and removal, not authorization: owners are trusted.
        authorization: { trustOwners: true },
      },
      overrides: options.discriminator ? [{ provide: WebhookResourceDiscriminator, useValue: options.discriminator }] : [],
      authorizer: options.authorizer,
    });
    apps.push(app);
    return { app, subscriptions: app.get(WebhookSubscriptionManager), delivery: app.get(WebhookDeliveryManager) };
  }

  const ids = (subscriptions: readonly WebhookSubscription[]) => subscriptions.map((s) => s.id);

  it('scenario 48: subscribeToResource(officeBob) lives in /NOAA/NWS/OUN, for the resource\'s own class, every event; it survives a restart', async () => {
    const { app, subscriptions } = await start();
    const { subscription } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path` });
    expect(subscription).toMatchObject({
      source: 'persistent',
      scope: '/NOAA/NWS/OUN',
      payloadType: 'scopes.ExternalizableEmployee',
      events: ['**'],
      ownerId: null,
      permission: null,
      dialect: null,
      active: true,
      statusMessage: 'Active',
    });
    await expect(subscriptions.subscribeToResource(new Folder('/NOAA'), { url: `${receiver.url}/some/path` })).rejects.toThrow(InvalidWebhookSubscriptionError);

    if (store === 'memory') return;
    await app.close();
    apps.splice(0);
    const restarted = await start();
    expect(await restarted.subscriptions.get(subscription.id)).toEqual(subscription);
    expect(ids(await restarted.subscriptions.list({ scope: '/NOAA/NWS/OUN' }))).toEqual([subscription.id]);
    expect(await restarted.subscriptions.list({ scope: '/NOAA' })).toEqual([]);
  });

  it('scenario 49: found through the payload\'s scope with no current scope; an ancestor\'s object and another type are not', async () => {
    const { subscriptions } = await start();
    const { subscription } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path` });
    expect(ids(subscriptions.activeSubscriptions('employee.updated', officeBob))).toEqual([subscription.id]);
    expect(subscriptions.activeSubscriptions('employee.updated', departmentBob)).toEqual([]);
    expect(subscriptions.activeSubscriptions('employee.updated', new Folder('/NOAA/NWS/OUN'))).toEqual([]);
  });

  it('scenario 50: a global static subscription comes first; a scope reached twice gives its subscription once', async () => {
    const statics = [{ url: `${receiver.url}/another/path`, payloadType: Employee, events: ['employee.updated'], secret: STATIC_SECRET }];
    const { app, subscriptions } = await start({ subscriptions: statics });
    const { subscription } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path` });
    expect(ids(subscriptions.activeSubscriptions('employee.updated', officeBob))).toEqual(['Subscription', subscription.id]);
    expect(ids(subscriptions.activeSubscriptions('employee.created', officeBob))).toEqual([subscription.id]);
    const both = app.get(WebhookScopes).run('/NOAA/NWS/OUN', () => subscriptions.activeSubscriptions('employee.created', officeBob));
    expect(ids(both)).toEqual([subscription.id]);
  });

  it('scenario 51: emitting for officeBob delivers "Bob" to the scoped subscription and fails 404 on the static one', async () => {
    const statics = [{ url: `${receiver.url}/another/path`, payloadType: Employee, events: ['employee.updated'], secret: STATIC_SECRET }];
    const { app, subscriptions, delivery } = await start({ subscriptions: statics });
    const { subscription } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path` });
    app.get(EventEmitter2).emit('employee.updated', officeBob);
    await delivery.waitForPendingDeliveries();

    const [scoped] = await delivery.listAttempts(subscription.id);
    expect(scoped).toMatchObject({ status: 'successful', message: '200 OK' });
    expect(JSON.parse(scoped!.request!.body).data).toBe('Bob');
    const received = receiver.requests.find((r) => r.path === '/some/path')!;
    expect(received.headers['content-length']).toBe(String(Buffer.byteLength(received.body)));
    const [global] = await delivery.listAttempts('Subscription');
    expect(global).toMatchObject({ status: 'failed', message: '404 Not Found', response: { statusCode: 404 } });
    expect(global!.internal.exceptionHistory).toEqual([]);
  });

  it('scenario 52: a discriminator names the parent class; an unlocated resource gives a global subscription; an explicit type wins', async () => {
    const discriminator = { payloadTypeOf: (resource: object) => (resource instanceof Employee ? Employee : undefined) };
    const { subscriptions } = await start({ discriminator });
    const { subscription } = await subscriptions.subscribeToResource(new ExternalizableEmployee('Loose'), { url: `${receiver.url}/some/path` });
    expect(subscription).toMatchObject({ payloadType: 'scopes.Employee', scope: null, source: 'persistent' });
    expect(ids(subscriptions.activeSubscriptions('employee.updated', new Employee('Plain')))).toEqual([subscription.id]);

    const explicit = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path`, payloadType: 'scopes.ExternalizableEmployee' });
    expect(explicit.subscription.payloadType).toBe('scopes.ExternalizableEmployee');
    const fallback = await subscriptions.subscribeToResource(new Folder() as object, { url: `${receiver.url}/some/path`, payloadType: 'scopes.Employee' });
    expect(fallback.subscription.payloadType).toBe('scopes.Employee');
  });

  it('scenario 62: the authorizer is told the payload\'s scope and the current scope, and resolves owners along them', async () => {
    const requests: WebhookAuthorizationRequest[] = [];
    /** One principal registry per scope, inherited downwards: `/NOAA/NWS` knows nws.bob, OUN also nws.oun.bob. */
    class ScopedPrincipals extends WebhookAuthorizer {
      authorize(request: WebhookAuthorizationRequest): WebhookAuthorization {
        requests.push(request);
        const known = (scope: string | null) => (scope?.startsWith('/NOAA/NWS/OUN') ? ['nws.bob', 'nws.oun.bob'] : scope?.startsWith('/NOAA/NWS') ? ['nws.bob'] : []);
        const found = [...known(request.payloadScope), ...known(request.currentScope)].includes(request.ownerId!);
        return found ? WebhookAuthorization.Allowed : WebhookAuthorization.PreconditionFailed;
      }
    }
    const { app, subscriptions } = await start({ authorizer: ScopedPrincipals });
    const { subscription: obob } = await subscriptions.create({ url: `${receiver.url}/some/path`, scope: '/NOAA/NWS', ownerId: 'nws.oun.bob', events: ['**'] });

    expect(ids(await subscriptions.subscriptionsToDeliver('employee.updated', officeBob))).toEqual([obob.id]);
    expect(requests.at(-1)).toMatchObject({ payloadScope: '/NOAA/NWS/OUN', currentScope: null, ownerId: 'nws.oun.bob' });
    expect(await subscriptions.subscriptionsToDeliver('employee.updated', departmentBob)).toEqual([]);
    expect((await subscriptions.get(obob.id))!.preconditionFailures).toBe(1);
    await app.get(WebhookScopes).run('/NOAA/NWS/OUN', async () => {
      expect(ids(await subscriptions.subscriptionsToDeliver('employee.updated', departmentBob))).toEqual([obob.id]);
    });
    expect(requests.at(-1)).toMatchObject({ payloadScope: '/NOAA/NWS', currentScope: '/NOAA/NWS/OUN' });
  });

  it('scenario 63: events on officeBob reach its own subscription and its ancestor /NOAA/NWS\'s, never a sibling\'s', async () => {
    const { app, subscriptions, delivery } = await start();
    const { subscription: obob } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path` });
    const { subscription: dbob } = await subscriptions.subscribeToResource(departmentBob, { url: `${receiver.url}/another/path` });
    const { subscription: ama } = await subscriptions.create({ url: `${receiver.url}/some/path`, scope: '/NOAA/NWS/AMA', payloadType: 'scopes.ExternalizableEmployee' });
    const { subscription: below } = await subscriptions.create({ url: `${receiver.url}/some/path`, scope: '/NOAA/NWS/OUN/desk', payloadType: 'scopes.ExternalizableEmployee' });
    for (let i = 0; i < 2; i++) app.get(EventEmitter2).emit('employee.updated', officeBob);
    await delivery.waitForPendingDeliveries();

    expect((await delivery.listAttempts(obob.id)).map((a) => a.status)).toEqual(['successful', 'successful']);
    expect((await delivery.listAttempts(dbob.id)).map((a) => a.message)).toEqual(['404 Not Found', '404 Not Found']);
    expect(await delivery.listAttempts(ama.id)).toEqual([]);
    expect(await delivery.listAttempts(below.id)).toEqual([]);
  });

  /** obob (OUN, owned by nws.oun.bob) and dbob (NWS, owned by nws.bob), each with 2 attempts from events on officeBob. */
  async function ownedSubscriptions(ownerRemoval: WebhooksModuleOptions['ownerRemoval']) {
    const started = await start({ ownerRemoval });
    const { subscriptions, delivery, app } = started;
    const { subscription: obob } = await subscriptions.subscribeToResource(officeBob, { url: `${receiver.url}/some/path`, ownerId: 'nws.oun.bob', permission: 'webhooks.view' });
    const { subscription: dbob } = await subscriptions.subscribeToResource(departmentBob, { url: `${receiver.url}/another/path`, ownerId: 'nws.bob', permission: 'webhooks.view' });
    for (let i = 0; i < 2; i++) app.get(EventEmitter2).emit('employee.updated', officeBob);
    await delivery.waitForPendingDeliveries();
    return { ...started, obob, dbob };
  }

  /** Emits a removal and waits for what it started. */
  async function remove(app: INestApplication, principal: unknown) {
    app.get(EventEmitter2).emit('principal.removed', principal);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
  }

  it('scenario 64: a removal event whose payload is not the configured principal type removes nothing', async () => {
    const { app, subscriptions, delivery, obob, dbob } = await ownedSubscriptions({ event: 'principal.removed', payloadType: UserPrincipal, ownerId: principalId });
    await remove(app, new InternalPrincipal('nws.bob'));
    for (const id of [obob.id, dbob.id]) {
      expect(await subscriptions.get(id)).not.toBeNull();
      expect(await delivery.listAttempts(id)).toHaveLength(2);
    }
  });

  it('scenario 65: a removal without an owner id removes nothing and says so; an undefined owner id is refused', async () => {
    const { app, subscriptions, obob, dbob } = await ownedSubscriptions({ event: 'principal.removed', payloadType: InternalPrincipal });
    const failures: WebhookOwnerRemovalFailedEvent[] = [];
    app.get(EventEmitter2).on(WebhookEvents.OwnerRemovalFailed, (event: WebhookOwnerRemovalFailedEvent) => failures.push(event));
    await remove(app, new InternalPrincipal('no id here'));
    expect(failures).toMatchObject([{ event: 'principal.removed', reason: 'no-owner-id' }]);
    for (const id of [obob.id, dbob.id]) expect(await subscriptions.get(id)).not.toBeNull();
    await expect(subscriptions.deleteSubscriptionsForOwner(undefined as unknown as string)).rejects.toThrow(InvalidWebhookSubscriptionError);
  });

  it('scenario 66: removing the office principal deletes its subscription with its attempts, and only that one', async () => {
    const { app, subscriptions, delivery, obob, dbob } = await ownedSubscriptions({ event: 'principal.removed', ownerId: principalId });
    const deleted: string[] = [];
    app.get(EventEmitter2).on(WebhookEvents.SubscriptionDeleted, (event: { subscription: WebhookSubscription }) => deleted.push(event.subscription.id));
    await remove(app, officePrincipal);
    expect(await subscriptions.get(obob.id)).toBeNull();
    expect(await delivery.listAttempts(obob.id)).toEqual([]);
    expect(deleted).toEqual([obob.id]);
    expect(await subscriptions.get(dbob.id)).toMatchObject({ active: true });
    expect((await delivery.listAttempts(dbob.id)).map((a) => a.status)).toEqual(['failed', 'failed']);
  });

  it("scenario 67: with reach 'lineage', removing the department principal keeps its subscription in a sibling scope", async () => {
    const { app, subscriptions, dbob } = await ownedSubscriptions({ event: 'principal.removed', ownerId: principalId, reach: 'lineage' });
    const { subscription: ama } = await subscriptions.create({ scope: '/NOAA/NWS/AMA', url: `${receiver.url}/some/path`, payloadType: 'scopes.ExternalizableEmployee', events: ['employee.deleted'], ownerId: 'nws.bob' });
    await remove(app, departmentPrincipal);
    expect(await subscriptions.get(dbob.id)).toBeNull();
    expect(await subscriptions.get(ama.id)).not.toBeNull();
  });

  it("scenario 68: reach 'all', or the sibling scope named by ownerRemoval.scopes, removes the sibling's subscription too", async () => {
    for (const ownerRemoval of [
      { event: 'principal.removed', ownerId: principalId, reach: 'all' as const },
      { event: 'principal.removed', ownerId: principalId, reach: 'lineage' as const, scopes: () => ['/NOAA/NWS/AMA'] },
    ]) {
      const { app, subscriptions, dbob } = await ownedSubscriptions(ownerRemoval);
      const { subscription: ama } = await subscriptions.create({ scope: '/NOAA/NWS/AMA', url: `${receiver.url}/some/path`, ownerId: 'nws.bob' });
      await remove(app, departmentPrincipal);
      expect(await subscriptions.get(dbob.id)).toBeNull();
      expect(await subscriptions.get(ama.id)).toBeNull();
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      if (database) {
        await database.drop();
        database = await storeFor(store);
      }
    }
  });

  it('scenario 74: scopes are normalised absolute paths; relative paths and ".." are refused', async () => {
    const { subscriptions } = await start();
    const url = `${receiver.url}/some/path`;
    const scopeOf = async (scope: string) => (await subscriptions.create({ url, scope })).subscription.scope;
    expect(await scopeOf('/')).toBe('/');
    expect(await scopeOf('/.')).toBe('/');
    expect(await scopeOf('/foo/')).toBe('/foo');
    expect(await scopeOf('/foo//biz//')).toBe('/foo/biz');
    for (const bad of ['foo', '', '/foo/../bar', 'relative/path']) {
      await expect(subscriptions.create({ url, scope: bad }), bad).rejects.toThrow(InvalidWebhookSubscriptionError);
    }
    expect(await subscriptions.list({ scope: '/foo/biz' })).toHaveLength(1);
  });
});

describe.each(STORES)('scopes: where the current scope comes from (%s store)', (store) => {
  let database: TestDatabase | undefined;
  let app: INestApplication | undefined;
  let receiver: TestReceiver;

  afterEach(async () => {
    await app?.close();
    await receiver.close();
    await database?.drop();
  });

  it("the application's own context (scopes.current), run(), and a publish's own scope, in that order of precedence", async () => {
    database = await storeFor(store);
    receiver = await TestReceiver.start();
    let tenant: string | null = '/acme';
    app = await createWebhooksApp({ database, webhooks: { scopes: { current: () => tenant } } });
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription: acme } = await subscriptions.create({ url: `${receiver.url}/acme`, scope: '/acme' });
    const { subscription: globex } = await subscriptions.create({ url: `${receiver.url}/globex`, scope: '/globex' });
    const reached = (payload: object) => subscriptions.activeSubscriptions('order.created', payload).map((s) => s.id);

    expect(reached({})).toEqual([acme.id]);
    expect(app.get(WebhookScopes).run('/globex', () => reached({}))).toEqual([globex.id]);
    tenant = null;
    expect(reached({})).toEqual([]);

    const publisher = app.get(WebhookPublisher);
    expect((await publisher.publish('order.created', { n: 1 }, { scope: '/globex/eu' })).map((a) => a.subscriptionId)).toEqual([globex.id]);
    await expect(publisher.publish('order.created', { n: 2 }, { scope: 'relative' })).rejects.toThrow(InvalidWebhookSubscriptionError);
  });
});
