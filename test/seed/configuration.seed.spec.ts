import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidWebhookSubscriptionError, WebhookDeliveryManager, WebhookEvents, WebhookMessages, type WebhookSubscription, type WebhookSubscriptionEvent, WebhookSubscriptionManager } from 'nest-webhooks';
import { FakeResolver } from '../support/fake-resolver.js';
import { ContentContainer, CREATED_EVENTS, Folder, Memo, STATIC_SECRET } from '../support/seed-a-fixtures.js';
import { createTestDatabase, type TestDatabase, transactionalModules } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor, type StoreKind, type TestAppOptions } from '../support/webhooks-app.js';

/**
 * Seed §11 "Configuration and static subscriptions" (scenarios 1–12). The seed's ZCML `staticSubscription`
 * is `WebhooksModule.forRoot({ subscriptions })`; its configuration errors are start-up errors of the app.
 * Every scenario runs on each store: memory, and the TypeORM store on SQLite and PostgreSQL.
 */

class Rollback extends Error {}

/**
 * What an app on `store` needs. A database store keeps subscriptions and attempts in it (and provides the
 * transactions). The memory store keeps them in memory; a SQLite file of its own only provides real
 * transactions to fire events in (seed: transaction.begin()).
 */
async function storeOptions(store: StoreKind): Promise<{ options: Pick<TestAppOptions, 'database' | 'before'>; database: TestDatabase }> {
  const database = await storeFor(store);
  if (database) return { options: { database }, database };
  const transactions = await createTestDatabase('sqlite');
  return { options: { before: transactionalModules(transactions) }, database: transactions };
}

describe.each(STORES)('seed scenarios 1–2: static subscriptions that fail configuration (%s store)', (store) => {
  const databases: TestDatabase[] = [];

  afterEach(async () => {
    for (const database of databases.splice(0)) await database.drop();
  });

  /** A fresh store for one app (each app of a scenario starts on an empty one). */
  async function onStore(): Promise<Pick<TestAppOptions, 'database'>> {
    const database = await storeFor(store);
    if (database) databases.push(database);
    return { database };
  }

  it('scenario 1: an http:// static subscription stops the app from starting because destinations must be https (same as seed); https URLs with a port or credentials are accepted (the seed rejected ports)', async () => {
    const failure = await createWebhooksApp({
      ...(await onStore()),
      webhooks: { subscriptions: [{ url: 'http://example.com', secret: STATIC_SECRET }] },
    }).then(
      (app) => app.close().then(() => null),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InvalidWebhookSubscriptionError);
    expect(failure).toMatchObject({ field: 'url' });
    expect((failure as InvalidWebhookSubscriptionError).reason).toMatch(/insecure-scheme/);

    // The seed's field allowed ports and inline credentials; here they are parsed correctly and accepted.
    const app = await createWebhooksApp({
      ...(await onStore()),
      webhooks: {
        subscriptions: [
          { url: 'https://example.com:8443/hooks', secret: STATIC_SECRET },
          { url: 'https://user:pass@example.com/hooks', secret: STATIC_SECRET },
        ],
      },
    });
    try {
      const urls = (await app.get(WebhookSubscriptionManager).list()).map((s) => s.url);
      expect(urls).toEqual(['https://example.com:8443/hooks', 'https://user:pass@example.com/hooks']);
    } finally {
      await app.close();
    }
  });

  it('scenario 2: a static subscription naming an undefined permission stops the app from starting with "Undefined permission ID"', async () => {
    const failure = await createWebhooksApp({
      ...(await onStore()),
      webhooks: {
        subscriptions: [{ url: 'https://example.com/hooks', ownerId: 'some.one', permission: 'no.such.permission', secret: STATIC_SECRET }],
      },
    }).then(
      (app) => app.close().then(() => null),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(InvalidWebhookSubscriptionError);
    expect(failure).toMatchObject({ field: 'permission' });
    expect((failure as InvalidWebhookSubscriptionError).reason).toMatch(/^Undefined permission ID "no\.such\.permission"/);
  });
});

describe.each(STORES)('seed scenarios 3–12: one static subscription to a domain that does not resolve (%s store)', (store) => {
  const UNRESOLVABLE_URL = 'https://this_domain_does_not_exist';
  let app: INestApplication | undefined;
  let database: TestDatabase | undefined;
  let resolver: FakeResolver;
  let subscriptions: WebhookSubscriptionManager;
  let delivery: WebhookDeliveryManager;

  beforeEach(async () => {
    const { options, database: created } = await storeOptions(store);
    database = created;
    // DNS is the boundary: this resolver knows no name at all, like the seed's unresolvable domain.
    resolver = new FakeResolver();
    app = await createWebhooksApp({
      // Real transactions to fire events in (seed: transaction.begin()), on the store's database or a SQLite file.
      ...options,
      webhooks: {
        subscriptions: [{ url: UNRESOLVABLE_URL, payloadType: ContentContainer, events: CREATED_EVENTS, secret: STATIC_SECRET }],
        destinations: { lookup: resolver.lookup },
        // The seed tries once; this library retries by default.
        delivery: { retrySchedule: [] },
      },
    });
    subscriptions = app.get(WebhookSubscriptionManager);
    delivery = app.get(WebhookDeliveryManager);
  });

  afterEach(async () => {
    await app?.close();
    await database?.drop();
    app = undefined;
    database = undefined;
  });

  const txHost = () => app!.get<TransactionHost<TransactionalAdapterTypeOrm>>(TransactionHost);
  const fireCreated = (folder = new Folder('f-1', 'Reports')) => app!.get(EventEmitter2).emit('folder.created', folder);

  /** Seed `transaction.begin(); notify(ObjectCreatedEvent(Folder())); transaction.commit()`. */
  async function fireInCommittedTransaction(): Promise<void> {
    await txHost().withTransaction(async () => {
      fireCreated();
    });
    await delivery.waitForPendingDeliveries();
  }

  it('scenario 3: a valid static subscription is the only one, named "Subscription", with its url, payload type (for) and events (when)', async () => {
    const all = await subscriptions.list();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      id: 'Subscription',
      source: 'static',
      url: UNRESOLVABLE_URL,
      payloadType: ContentContainer,
      events: CREATED_EVENTS,
      ownerId: null,
      permission: null,
      dialect: null,
    });
  });

  it('scenario 4: the active lookup for (new Folder, created) returns exactly that subscription, and it is active', async () => {
    const found = subscriptions.activeSubscriptions('folder.created', new Folder('f-1', 'Reports'));
    expect(found.map((s) => s.id)).toEqual(['Subscription']);
    expect(found[0]!.active).toBe(true);
    // The match really depends on `for_` and `when`.
    expect(subscriptions.activeSubscriptions('folder.modified', new Folder('f-1', 'Reports'))).toEqual([]);
    expect(subscriptions.activeSubscriptions('memo.created', new Memo('hi'))).toEqual([]);
  });

  it('scenario 5: isApplicable(folder) is true when no security is configured', async () => {
    expect(await subscriptions.isApplicable('Subscription', 'folder.created', new Folder('f-1', 'Reports'))).toBe(true);
    expect(await subscriptions.isApplicable('Subscription', 'memo.created', new Memo('hi'))).toBe(false);
  });

  it('scenario 6: an event fired inside a transaction joins that transaction: nothing happens before commit, a rollback drops it, a commit delivers it once', async () => {
    await expect(
      txHost().withTransaction(async () => {
        fireCreated();
        throw new Rollback();
      }),
    ).rejects.toBeInstanceOf(Rollback);
    await delivery.waitForPendingDeliveries();
    expect(await delivery.listAttempts('Subscription')).toHaveLength(0);
    expect(resolver.calls).toEqual([]);

    await txHost().withTransaction(async () => {
      fireCreated();
      // Bound to the transaction: no attempt and no delivery work until it commits.
      await delivery.waitForPendingDeliveries();
      expect(await delivery.listAttempts('Subscription')).toHaveLength(0);
      expect(resolver.calls).toEqual([]);
    });
    await delivery.waitForPendingDeliveries();
    expect(await delivery.listAttempts('Subscription')).toHaveLength(1);
  });

  it("scenario 7: committing with an unresolvable domain succeeds; the one attempt is failed with the seed's verification message and 1 exception entry (checked at send time, after commit)", async () => {
    await fireInCommittedTransaction();
    const attempts = await delivery.listAttempts('Subscription');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: 'failed', message: WebhookMessages.attempt.DestinationVerificationFailed });
    expect(attempts[0]!.internal.exceptionHistory).toHaveLength(1);
    expect(resolver.calls).toContain('this_domain_does_not_exist');
  });

  it('scenario 8: deactivate returns true, then false on a second call; the subscription is inactive (status message "Deactivated", the seed left "Active")', async () => {
    expect(await subscriptions.deactivate('Subscription')).toBe(true);
    expect(await subscriptions.deactivate('Subscription')).toBe(false);
    const subscription = await subscriptions.get('Subscription');
    expect(subscription).toMatchObject({ active: false, statusMessage: WebhookMessages.subscription.Deactivated });
  });

  it('scenario 9: assigning `active` directly is refused (readonly) and changes nothing', async () => {
    const subscription = (await subscriptions.get('Subscription'))!;
    expect(() => {
      // @ts-expect-error -- `active` is readonly: only the manager changes it (seed: "field is readonly").
      subscription.active = false;
    }).toThrow(TypeError);
    expect((await subscriptions.get('Subscription'))!.active).toBe(true);
    expect(subscriptions.activeSubscriptions('folder.created', new Folder('f-1', 'Reports'))).toHaveLength(1);
  });

  it('scenario 10: an inactive subscription keeps its attempt, is not found by the active lookup, and a committed event adds nothing', async () => {
    await fireInCommittedTransaction();
    expect(await delivery.listAttempts('Subscription')).toHaveLength(1);
    expect(await subscriptions.deactivate('Subscription')).toBe(true);

    expect(await delivery.listAttempts('Subscription')).toHaveLength(1);
    expect(subscriptions.activeSubscriptions('folder.created', new Folder('f-2', 'Drafts'))).toEqual([]);
    const callsBefore = resolver.calls.length;
    await fireInCommittedTransaction();
    expect(await delivery.listAttempts('Subscription')).toHaveLength(1);
    expect(resolver.calls).toHaveLength(callsBefore);
  });

  it('scenario 11: activate returns true (then false: activation is idempotent here); a new committed event makes a second attempt', async () => {
    await fireInCommittedTransaction();
    expect(await subscriptions.deactivate('Subscription')).toBe(true);
    await fireInCommittedTransaction();
    expect(await delivery.listAttempts('Subscription')).toHaveLength(1);

    expect(await subscriptions.activate('Subscription')).toBe(true);
    expect(await subscriptions.activate('Subscription')).toBe(false);
    expect(await subscriptions.get('Subscription')).toMatchObject({ active: true, statusMessage: WebhookMessages.subscription.Active });

    await fireInCommittedTransaction();
    const attempts = await delivery.listAttempts('Subscription');
    expect(attempts).toHaveLength(2);
    expect(attempts.map((a) => a.status)).toEqual(['failed', 'failed']);
  });

  it('scenario 12: deleting the subscription removes it from the manager (no parent) and it is announced inactive', async () => {
    const deleted: WebhookSubscription[] = [];
    app!.get(EventEmitter2).on(WebhookEvents.SubscriptionDeleted, (event: WebhookSubscriptionEvent) => deleted.push(event.subscription));

    expect(await subscriptions.delete('Subscription')).toBe(true);
    expect(await subscriptions.get('Subscription')).toBeNull();
    expect(await subscriptions.list()).toEqual([]);
    expect(subscriptions.activeSubscriptions('folder.created', new Folder('f-1', 'Reports'))).toEqual([]);
    expect(deleted).toHaveLength(1);
    expect(deleted[0]).toMatchObject({ id: 'Subscription', active: false });
    expect(await subscriptions.delete('Subscription')).toBe(false);
  });
});
