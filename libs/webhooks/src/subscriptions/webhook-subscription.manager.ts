import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { WebhookClock } from '../core/clock.js';
import type { CreateWebhookSubscriptionInput, UpdateWebhookSubscriptionInput } from '../core/subscription-input.js';
import { InvalidWebhookSubscriptionError, WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import { type WebhookDeactivationReason, WebhookPreconditionFailureLimitReachedEvent, WebhookSubscriptionDeactivatedEvent, WebhookSubscriptionEvent } from '../core/webhook-events.js';
import type { WebhookSubscription, WebhookSubscriptionSource, WebhookSubscriptionWithSecret } from '../core/webhook-subscription.js';
import { AttemptMessages, SubscriptionStatusMessages, WEBHOOKS_OPTIONS, WebhookEvents } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookScopes } from '../matching/webhook-scopes.js';
import { WebhookPayloadTypes } from '../payloads/webhook-payload-types.js';
import { type SubscriptionPatch, type SubscriptionQuery, type SubscriptionUpdateOptions, WebhookStore } from '../storage/webhook-store.js';
import { DeliveryCredentials } from './delivery-credentials.js';
import { SubscriptionApplicability } from './subscription-applicability.js';
import { SubscriptionBuilder } from './subscription-builder.js';
import { resourceSubscriptionInput, WebhookResourceDiscriminator } from './resource-subscriptions.js';
import { registerStaticSubscriptions } from './static-subscriptions.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { registryEntry, subscriptionSnapshot, withSecret } from './subscription-snapshot.js';

/**
 * Creates, changes and finds subscriptions (`nti.webhooks`' `IWebhookSubscriptionManager`), and answers which
 * active subscriptions an event goes to (`IWebhookSubscriptionRegistry`). Static subscriptions from
 * `forRoot({ subscriptions })` live in memory; the others in the configured `WebhookStore`. Only this service
 * activates and deactivates subscriptions. What it returns are frozen copies.
 */
@Injectable()
export class WebhookSubscriptionManager implements OnModuleInit {
  private readonly logger = new Logger('WebhookSubscriptionManager');
  private initialized: Promise<void> | null = null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly registry: SubscriptionRegistry,
    private readonly builder: SubscriptionBuilder,
    private readonly credentials: DeliveryCredentials,
    private readonly dialects: WebhookDialectRegistry,
    private readonly payloadTypes: WebhookPayloadTypes,
    private readonly applicability: SubscriptionApplicability,
    private readonly events: WebhookEventPublisher,
    private readonly clock: WebhookClock,
    private readonly scopes: WebhookScopes,
    private readonly discriminator: WebhookResourceDiscriminator,
  ) {}

  onModuleInit(): Promise<void> {
    return this.initialize();
  }

  /** Loads static subscriptions and the active stored ones into the registry; runs once. */
  initialize(): Promise<void> {
    this.initialized ??= (async () => {
      await this.store.initialize();
      this.payloadTypes.registerAll(this.options.payloadTypes);
      // Static subscriptions name dialects: the registry's own start-up hook may not have run yet.
      this.dialects.discover();
      const { builder, registry, credentials, logger } = this;
      await registerStaticSubscriptions(this.options.subscriptions, { builder, registry, credentials, logger });
      await this.registry.load();
    })();
    return this.initialized;
  }

  // ---------------------------------------------------------------- create / read

  /** Creates and activates a stored subscription; the result holds its signing secret, shown only now. */
  async create(input: CreateWebhookSubscriptionInput): Promise<WebhookSubscriptionWithSecret> {
    const { subscription, secret, headers } = await this.builder.build(input, 'persistent', uuidv7());
    const stored = await this.store.insertSubscription(subscription, { secrets: [secret], headers });
    this.registry.applyOwn(stored);
    this.events.emit(WebhookEvents.SubscriptionCreated, new WebhookSubscriptionEvent(subscriptionSnapshot(stored)));
    return withSecret(stored, secret.secret);
  }

  async get(id: string): Promise<WebhookSubscription | null> {
    const found = await this.find(id);
    return found ? subscriptionSnapshot(found) : null;
  }

  /**
   * Subscribes to a resource (`nti.webhooks`' `subscribe_to_resource`): in the scope the resource lives in, for the
   * payload type `WebhookResourceDiscriminator` names (by default the resource's own registered class), to every event
   * unless `events` says otherwise.
   */
  async subscribeToResource(resource: object, input: Omit<CreateWebhookSubscriptionInput, 'scope'>): Promise<WebhookSubscriptionWithSecret> {
    const { scopes, payloadTypes, discriminator } = this;
    return this.create(resourceSubscriptionInput(resource, input, { scopes, payloadTypes, discriminator }));
  }

  /** Like `get`, but throws `WebhookSubscriptionNotFoundError`. */
  async require(id: string): Promise<WebhookSubscription> {
    return subscriptionSnapshot(await this.requireFound(id));
  }

  /** Static subscriptions first, then stored ones in creation order. */
  async list(query: SubscriptionQuery & { source?: WebhookSubscriptionSource } = {}): Promise<WebhookSubscription[]> {
    const statics =
      query.source === 'persistent'
        ? []
        : this.registry
            .staticSubscriptions()
            .filter((s) => (query.ownerId === undefined || s.ownerId === query.ownerId) && (query.scope === undefined || s.scope === query.scope));
    if (query.source === 'static') return statics.map(subscriptionSnapshot);
    const stored = (await this.store.listSubscriptions(query)).filter((s) => query.source === undefined || s.source === query.source);
    return [...statics, ...stored].map(subscriptionSnapshot);
  }

  // ---------------------------------------------------------------- change

  /** Changes a stored subscription; a new URL is validated again. `ownerId` cannot change. */
  async update(id: string, input: UpdateWebhookSubscriptionInput): Promise<WebhookSubscription> {
    const current = await this.requireFound(id);
    if (current.source !== 'persistent') throw new WebhookSubscriptionOperationError(`Subscription "${id}" is declared in ${current.source === 'static' ? 'code' : 'configuration'} and cannot be updated`);
    const { patch, headers } = await this.builder.patch(current, input);
    if (Object.keys(patch).length === 0 && headers === undefined) return subscriptionSnapshot(current); // nothing changes: nothing written
    const updated = await this.store.updateSubscription(id, { ...patch, updatedAt: this.clock.now() }, headers !== undefined ? { headers } : {});
    if (!updated) throw new WebhookSubscriptionNotFoundError(id);
    this.registry.applyOwn(updated);
    const snapshot = subscriptionSnapshot(updated);
    this.events.emit(WebhookEvents.SubscriptionUpdated, new WebhookSubscriptionEvent(snapshot));
    return snapshot;
  }

  /**
   * Activates a subscription: it receives events again, its status message becomes `Active` and its
   * precondition-failure counter and failing-since time are reset. Idempotent. Returns true when it was
   * inactive.
   */
  async activate(id: string): Promise<boolean> {
    const current = await this.requireFound(id);
    if (current.active && (current.source === 'persistent' || this.registry.isActive(id))) {
      if (current.source === 'persistent') this.registry.applyStored(current);
      return false;
    }
    const updated = await this.patch(current, {
      active: true,
      statusMessage: SubscriptionStatusMessages.Active,
      preconditionFailures: 0,
      failingSince: null,
    });
    if (updated.source === 'static') this.registry.enableStatic(id, true);
    this.events.emit(WebhookEvents.SubscriptionActivated, new WebhookSubscriptionEvent(subscriptionSnapshot(updated)));
    return true;
  }

  /**
   * Deactivates a subscription: it keeps its history, gets no new attempts, and its pending retries are
   * cancelled. Returns true when it was active and false otherwise (as `nti.webhooks`: true, then false).
   */
  async deactivate(id: string, reason: WebhookDeactivationReason = 'manual', statusMessage?: string): Promise<boolean> {
    const current = await this.find(id);
    if (!current) return false;
    if (current.source === 'static' ? !this.registry.enableStatic(id, false) : !current.active) {
      if (current.source === 'persistent') this.registry.applyStored(current);
      return false;
    }
    const now = this.clock.now();
    // What the update below cancels, for the metrics (counted first: the store cancels within the update).
    let cancelled = current.source === 'persistent' ? (await this.store.countAttempts(id)).pending : 0;
    const updated = await this.patch(
      current,
      { active: false, statusMessage: statusMessage ?? (reason === 'manual' ? SubscriptionStatusMessages.Deactivated : current.statusMessage) },
      // Stored: in the same transaction, so no process claims a pending attempt of a subscription already inactive.
      { cancelPending: { message: AttemptMessages.Cancelled, now } },
    );
    // A static subscription is each process's own: with a shared store, its attempts are left to the processes
    // where it is still active.
    if (current.source === 'static' && !this.store.shared) cancelled = (await this.store.cancelPending(id, AttemptMessages.Cancelled, now)).length;
    this.events.emit(WebhookEvents.SubscriptionDeactivated, new WebhookSubscriptionDeactivatedEvent(subscriptionSnapshot(updated), reason, cancelled));
    return true;
  }

  /** Deletes a subscription and its history; it is deactivated first. Returns false if it did not exist. */
  async delete(id: string): Promise<boolean> {
    const current = await this.find(id);
    if (!current) return false;
    let cancelled: number;
    if (current.source === 'static') {
      this.registry.deleteStatic(id);
      // Deleting is asked for explicitly: its attempts go, also those other processes published for it.
      cancelled = (await this.store.cancelPending(id, AttemptMessages.Cancelled, this.clock.now())).length;
      await this.store.clearAttempts(id);
    } else {
      cancelled = (await this.store.countAttempts(id)).pending;
      // One transaction deletes the subscription with its attempts (pending ones included) and records the delete.
      const version = await this.store.deleteSubscription(id);
      if (version === null) return false;
      this.registry.applyOwnDelete(id, version);
    }
    this.events.emit(WebhookEvents.SubscriptionDeleted, new WebhookSubscriptionEvent(subscriptionSnapshot({ ...current, active: false }), cancelled));
    return true;
  }

  /** Deletes the subscriptions owned by `ownerId` (exact match) whose scope `inScope` accepts, and returns them (`deleteSubscriptionsForPrincipal`). */
  async deleteSubscriptionsForOwner(ownerId: string, inScope: (scope: string | null) => boolean = () => true): Promise<WebhookSubscription[]> {
    if (typeof ownerId !== 'string' || ownerId.length === 0) throw new InvalidWebhookSubscriptionError('ownerId', 'must be a non-empty string');
    const owned = (await this.list({ ownerId })).filter((s) => inScope(s.scope));
    const deleted: WebhookSubscription[] = [];
    for (const subscription of owned) if (await this.delete(subscription.id)) deleted.push(subscription);
    return deleted;
  }

  /**
   * Gives a subscription a new signing secret (generated, or `secret`: a `whsec_` one of 24-64 bytes), returned once. The
   * previous secrets keep signing beside it for `overlapMs` (default `secrets.rotationOverlapMs`): receivers switch without loss.
   */
  async rotateSecret(id: string, overlapMs = this.options.secrets.rotationOverlapMs, secret?: string): Promise<WebhookSubscriptionWithSecret> {
    let subscription = await this.requireFound(id);
    const now = this.clock.now();
    const next = this.builder.newSecret(id, now, secret);
    const expireOthersAt = new Date(now.getTime() + Math.max(0, overlapMs));
    if (subscription.source === 'static') {
      const current = this.credentials.staticOf(id) ?? { secrets: [], headers: {} };
      const others = current.secrets.map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < expireOthersAt ? s.expiresAt : expireOthersAt }));
      this.credentials.setStatic(id, { ...current, secrets: [next, ...others] });
    } else {
      if ((await this.store.addSecret(next, expireOthersAt)) === null) throw new WebhookSubscriptionNotFoundError(id);
      subscription = (await this.store.findSubscription(id)) ?? subscription;
      this.registry.applyOwn(subscription);
    }
    return withSecret(subscription, next.secret);
  }

  /** Records that deliveries started failing (time-based disable rule), or that they work again. */
  async setFailingSince(id: string, failingSince: Date | null): Promise<void> {
    const current = await this.find(id);
    if (!current || (current.failingSince === null) === (failingSince === null)) return;
    await this.patch(current, { failingSince, updatedAt: current.updatedAt }); // internal state: not an update
  }

  // ---------------------------------------------------------------- which subscriptions an event goes to

  /** Active subscriptions whose events, payload type and scope match (`activeSubscriptions`); changes nothing. */
  activeSubscriptions(eventName: string, payload: unknown): WebhookSubscription[] {
    return this.applicability.active(eventName, payload);
  }

  /** Active ones the authorizer allows (`subscriptionsToDeliver`); precondition failures count and may deactivate. */
  subscriptionsToDeliver(eventName: string, payload: unknown): Promise<WebhookSubscription[]> {
    return this.applicability.toDeliver(eventName, payload, (subscription) => this.countPreconditionFailure(subscription));
  }

  /** Whether the subscription's type matches and its owner may see the payload; ignores `active` (`isApplicable`). */
  async isApplicable(id: string, eventName: string, payload: unknown): Promise<boolean> {
    return this.applicability.applies(await this.requireFound(id), eventName, payload);
  }

  /**
   * Counts a precondition failure; at the subscription's limit (`limits.preconditionFailureLimit` by default) it is
   * deactivated, unless a listener of the limit event decided to keep it active or to reset the counter.
   */
  async countPreconditionFailure(subscription: WebhookSubscription): Promise<void> {
    let failures: number;
    if (subscription.source === 'static') {
      const current = this.registry.static(subscription.id);
      if (!current) return;
      failures = current.preconditionFailures + 1;
      this.registry.setStatic({ ...current, preconditionFailures: failures });
    } else {
      failures = await this.store.incrementPreconditionFailures(subscription.id);
    }
    if (failures < (subscription.preconditionFailureLimit ?? this.options.limits.preconditionFailureLimit)) return;
    const latest = (await this.get(subscription.id)) ?? subscriptionSnapshot(subscription);
    const reached = new WebhookPreconditionFailureLimitReachedEvent(latest, failures);
    this.events.emit(WebhookEvents.PreconditionFailureLimitReached, reached);
    if (reached.decision === 'deactivate') await this.deactivate(subscription.id, 'precondition-failures', SubscriptionStatusMessages.TooManyPreconditionFailures);
    else if (reached.decision === 'reset-counter') await this.patch(latest, { preconditionFailures: 0, updatedAt: latest.updatedAt });
  }

  /** The subscription as the registry (static) or the store (stored) has it now, not copied. */
  private async find(id: string): Promise<WebhookSubscription | null> {
    if (typeof id !== 'string') return null;
    return this.registry.static(id) ?? (await this.store.findSubscription(id));
  }

  private async requireFound(id: string): Promise<WebhookSubscription> {
    const subscription = await this.find(id);
    if (!subscription) throw new WebhookSubscriptionNotFoundError(id);
    return subscription;
  }

  private async patch(current: WebhookSubscription, patch: SubscriptionPatch, options: SubscriptionUpdateOptions = {}): Promise<WebhookSubscription> {
    const changes = { updatedAt: this.clock.now(), ...patch };
    if (current.source === 'static') {
      const updated = registryEntry({ ...current, ...changes });
      this.registry.setStatic(updated);
      return updated;
    }
    const updated = await this.store.updateSubscription(current.id, changes, options);
    if (!updated) throw new WebhookSubscriptionNotFoundError(current.id);
    this.registry.applyOwn(updated);
    return updated;
  }
}
