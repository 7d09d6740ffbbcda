import { Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookAccessPolicy, type WebhookAttempt, WebhookAuthorizer, WebhookDeliveryManager, type WebhookPrincipal, type WebhookSubscription, WebhookSubscriptionManager } from 'nest-webhooks';
import { OwnerWebhookAccessPolicy, type WebhookAccessAction } from 'nest-webhooks/extensions';
import { TestReceiver } from '../support/receiver.js';
import { Folder, interaction, SeedAuthorizer, seedSecret } from '../support/seed-b-security.js';
import type { TestDatabase } from '../support/databases.js';
import { createWebhooksApp, STORES, storeFor } from '../support/webhooks-app.js';

/**
 * Seed §11 scenarios 33–36 (security on subscriptions themselves, §7.2). Mapping: the seed's `zope.View` →
 * `view`, `nti.actions.delete` → `delete`, `ManageContent` → `manage`; the seed's manager role → an
 * administrator principal; a custom `IWebhookSubscriptionSecuritySetter` → replacing the `WebhookAccessPolicy`
 * provider. The library adds `update` (change, activate, rotate, redeliver), which owners also get: a
 * deliberate extension, since the seed had no update API to protect. Attempts share their subscription's
 * grants: the subscription is looked up by `attempt.subscriptionId`, and an attempt whose subscription is
 * gone ("detached") is checked against `null`.
 */
describe.each(STORES)('seed: subscription security (scenarios 33–36) (%s store)', (store) => {
  const ALICE: WebhookPrincipal = { id: 'webhook.alice' };
  const BOB: WebhookPrincipal = { id: 'webhook.bob' };
  const MANAGER: WebhookPrincipal = { id: 'webhook.manager', admin: true };
  const ACTIONS: WebhookAccessAction[] = ['view', 'update', 'delete', 'manage'];
  const STATIC_ID = 'Subscription';

  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
    app = undefined;
    receiver = undefined;
    database = undefined;
  });

  /** What `principal` may do, action by action, with a subscription (or with an attempt, through its subscription). */
  function rights(principal: WebhookPrincipal, subscription: WebhookSubscription | null): Record<WebhookAccessAction, boolean> {
    const policy = app!.get(WebhookAccessPolicy);
    return Object.fromEntries(ACTIONS.map((action) => [action, policy.can(principal, action, subscription)])) as Record<WebhookAccessAction, boolean>;
  }

  /** An attempt's rights, as the library's access rule for attempts gives them (its subscription's, none once detached). */
  async function attemptRights(principal: WebhookPrincipal, attempt: WebhookAttempt) {
    const delivery = app!.get(WebhookDeliveryManager);
    const entries = await Promise.all(ACTIONS.map(async (action) => [action, await delivery.mayAccessAttempt(principal, action, attempt)] as const));
    return Object.fromEntries(entries) as Record<WebhookAccessAction, boolean>;
  }

  const ALL = { view: true, update: true, delete: true, manage: true };
  const NONE = { view: false, update: false, delete: false, manage: false };
  const OWNER = { view: true, update: true, delete: true, manage: false };

  async function bootWithAliceSubscription() {
    receiver = await TestReceiver.start();
    database = await storeFor(store);
    app = await createWebhooksApp({
      database,
      authorizer: SeedAuthorizer,
      webhooks: {
        // The application passes its request context's acting user to the library.
        authorization: { actingPrincipal: () => interaction.getStore() ?? null },
        subscriptions: [
          { url: `${receiver.url}/hooks`, events: ['content.created'], payloadType: Folder, ownerId: ALICE.id, secret: seedSecret() },
        ],
      },
    });
    return { subscriptions: app.get(WebhookSubscriptionManager), delivery: app.get(WebhookDeliveryManager), receiver };
  }

  /** Seed: "deliver as the manager with a local View grant for Alice on the content". */
  async function deliverAsManagerWithLocalGrantForAlice(): Promise<WebhookAttempt> {
    const authorizer = app!.get(WebhookAuthorizer) as SeedAuthorizer;
    authorizer.definePrincipal(ALICE.id).definePrincipal(MANAGER.id).grant(MANAGER.id, 'webhooks.view');
    const emit = (folder: Folder) =>
      authorizer.actAs(MANAGER.id, async () => {
        app!.get(EventEmitter2).emit('content.created', folder);
        await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();
      });
    // Control: without the local grant, Alice (the owner) may not see the content, so nothing is recorded.
    await emit(new Folder('private'));
    expect(await app!.get(WebhookDeliveryManager).listAttempts(STATIC_ID)).toEqual([]);
    await emit(new Folder('report', { [ALICE.id]: ['webhooks.view'] }));
    const attempts = await app!.get(WebhookDeliveryManager).listAttempts(STATIC_ID);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ status: 'successful', subscriptionId: STATIC_ID });
    return attempts[0]!;
  }

  it('scenario 33: a static subscription owned by webhook.alice — Alice may view and delete it but not manage (and, new here, update it); an administrator (seed: manager role) may do everything; Bob nothing', async () => {
    const { subscriptions } = await bootWithAliceSubscription();
    expect(app!.get(WebhookAccessPolicy)).toBeInstanceOf(OwnerWebhookAccessPolicy);
    const subscription = (await subscriptions.get(STATIC_ID))!;
    expect(subscription.ownerId).toBe(ALICE.id);
    // An owner with no permission gets the documented default (seed docs: zope.View).
    expect(subscription.permission).toBe('webhooks.view');

    expect(rights(ALICE, subscription)).toEqual(OWNER);
    expect(rights(MANAGER, subscription)).toEqual(ALL);
    expect(rights(BOB, subscription)).toEqual(NONE);
    // Being an administrator is what counts, not the id.
    expect(rights({ id: MANAGER.id }, subscription)).toEqual(NONE);
  });

  it('scenario 34: delivering as the manager with a local View grant for Alice records an attempt; once detached from its subscription (here: the subscription is gone) Alice and Bob have no rights on it, the administrator all', async () => {
    const { subscriptions, delivery } = await bootWithAliceSubscription();
    const attempt = await deliverAsManagerWithLocalGrantForAlice();
    expect(await attemptRights(ALICE, attempt)).toEqual(OWNER);

    expect(await subscriptions.delete(STATIC_ID)).toBe(true);
    expect(await delivery.getAttempt(attempt.id)).toBeNull();

    expect(await attemptRights(ALICE, attempt)).toEqual(NONE);
    expect(await attemptRights(MANAGER, attempt)).toEqual(ALL);
    expect(await attemptRights(BOB, attempt)).toEqual(NONE);
  });

  it('scenario 35: an attempt under its subscription has the subscription grants — Alice view/delete but not manage, the administrator all, Bob nothing (attempts cannot be re-parented here; they reference their subscription by id, so the grants hold while it exists)', async () => {
    const { delivery } = await bootWithAliceSubscription();
    const delivered = await deliverAsManagerWithLocalGrantForAlice();
    // The attempt as the store holds it, under its subscription.
    const attempt = (await delivery.getAttempt(delivered.id))!;
    expect(attempt.subscriptionId).toBe(STATIC_ID);

    expect(await attemptRights(ALICE, attempt)).toEqual(OWNER);
    expect(await attemptRights(MANAGER, attempt)).toEqual(ALL);
    expect(await attemptRights(BOB, attempt)).toEqual(NONE);
  });

  it('scenario 36: replacing the access policy (seed: a no-op security setter) replaces the default grants — on a new subscription owned by Bob, Alice and Bob have no rights, the administrator all', async () => {
    @Injectable()
    class NoOwnerGrantsAccessPolicy extends WebhookAccessPolicy {
      can(principal: WebhookPrincipal): boolean {
        return principal.admin === true;
      }
    }
    receiver = await TestReceiver.start();
    database = await storeFor(store);
    app = await createWebhooksApp({ database, overrides: [{ provide: WebhookAccessPolicy, useClass: NoOwnerGrantsAccessPolicy }] });
    expect(app.get(WebhookAccessPolicy)).toBeInstanceOf(NoOwnerGrantsAccessPolicy);

    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hooks`, ownerId: BOB.id });
    expect(subscription.ownerId).toBe(BOB.id);

    expect(rights(ALICE, subscription)).toEqual(NONE);
    expect(rights(BOB, subscription)).toEqual(NONE);
    expect(rights(MANAGER, subscription)).toEqual(ALL);
    // Control: the default policy would have given Bob the owner's rights.
    expect(Object.fromEntries(ACTIONS.map((a) => [a, new OwnerWebhookAccessPolicy().can(BOB, a, subscription)]))).toEqual(OWNER);
  });
});
