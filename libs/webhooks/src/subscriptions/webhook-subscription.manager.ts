import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { WebhookClock } from '../core/clock.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookDestinationValidator } from '../destinations/webhook-destination.validator.js';
import { WebhookAuthorization, WebhookAuthorizer } from '../access/webhook-authorizer.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import {
  type WebhookDeactivationReason,
  WebhookPreconditionFailureLimitReachedEvent,
  WebhookSubscriptionDeactivatedEvent,
  WebhookSubscriptionEvent,
} from '../core/webhook-events.js';
import { SubscriptionIndex } from '../matching/subscription-index.js';
import { registerPayloadType } from '../payloads/webhook-payload.decorator.js';
import { generateSigningSecret } from '../secrets/signing-secret.js';
import {
  type StoredSigningSecret,
  type StoreWriteContext,
  type SubscriptionChanges,
  type SubscriptionPatch,
  type SubscriptionQuery,
  type SubscriptionUpdateOptions,
  WebhookStore,
} from '../storage/webhook-store.js';
import { AttemptMessages, SubscriptionStatusMessages, WEBHOOKS_OPTIONS, WebhookEvents } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import type {
  CreateWebhookSubscriptionInput,
  StaticWebhookSubscription,
  UpdateWebhookSubscriptionInput,
} from '../core/subscription-input.js';
import {
  checkDescription,
  checkDialect,
  checkEvents,
  checkHeaders,
  checkMetadata,
  checkOwnerId,
  checkPayloadType,
  checkPermission,
  checkRetrySchedule,
  checkSecret,
  checkUrl,
  type SubscriptionRuleContext,
} from './subscription-rules.js';
import { DeliveryCredentials, type LiveCredentials } from './delivery-credentials.js';
import { RegistrySync } from './registry-sync.js';
import { registryEntry, subscriptionSnapshot } from './subscription-snapshot.js';
import { WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { WebhookSubscription, WebhookSubscriptionSource, WebhookSubscriptionWithSecret } from '../core/webhook-subscription.js';


const STATIC_ID_BASE = 'Subscription';
/** How often a process that neither publishes nor delivers reads the registry version anyway (it stays warm). */
const REGISTRY_REFRESH_MS = 5000;
const MAX_REMEMBERED_DELETES = 100_000;

/**
 * The result of create/rotate. `secret` is a non-enumerable property: read it explicitly; logging the object
 * or serializing it to JSON does not show it.
 */
function withSecret(subscription: WebhookSubscription, secret: string): WebhookSubscriptionWithSecret {
  const result = { subscription: subscriptionSnapshot(subscription) } as WebhookSubscriptionWithSecret;
  Object.defineProperty(result, 'secret', { value: secret, enumerable: false });
  return result;
}

/**
 * Creates, changes and finds subscriptions, and is the registry that says which active subscriptions an
 * event goes to (seed `IWebhookSubscriptionManager` + `IWebhookSubscriptionRegistry`). Static subscriptions
 * from `forRoot({ subscriptions })` live in memory; the others in the configured `WebhookStore`, where other
 * processes may change them too: the registry follows the store's version (see `RegistrySync`). Only this
 * service activates and deactivates subscriptions. What it returns are frozen copies.
 */
@Injectable()
export class WebhookSubscriptionManager implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookSubscriptionManager');
  private readonly index = new SubscriptionIndex();
  private readonly statics = new Map<string, WebhookSubscription>();
  private readonly credentials: DeliveryCredentials;
  private readonly sync: RegistrySync;
  /** The revision of each stored subscription the registry applied, and the version of each delete. */
  private readonly storedRevisions = new Map<string, number>();
  private readonly deletedAt = new Map<string, number>();
  private initialized: Promise<void> | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly dialects: WebhookDialectRegistry,
    private readonly destinations: WebhookDestinationValidator,
    private readonly authorizer: WebhookAuthorizer,
    private readonly events: WebhookEventPublisher,
    private readonly clock: WebhookClock,
  ) {
    this.credentials = new DeliveryCredentials(store, clock);
    this.sync = new RegistrySync(store, (changes) => this.applyChanges(changes));
  }

  onModuleInit(): Promise<void> {
    return this.initialize();
  }

  /** Loads static subscriptions and the active stored ones into the registry; runs once. */
  initialize(): Promise<void> {
    this.initialized ??= (async () => {
      await this.store.initialize();
      for (const [name, type] of Object.entries(this.options.payloadTypes)) registerPayloadType(name, type);
      this.dialects.discover();
      for (const definition of this.options.subscriptions) await this.createStatic(definition);
      await this.sync.refresh();
      this.logger.log(`Webhook registry ready: ${this.statics.size} static, ${this.storedRevisions.size} stored subscription(s)`);
      if (this.store.shared) this.followOtherProcesses();
    })();
    return this.initialized;
  }

  beforeApplicationShutdown(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.unwatch?.();
  }

  /** Reads changes early when another process signals one (PostgreSQL), and every few seconds anyway. */
  private followOtherProcesses(): void {
    const refresh = () =>
      void this.sync.refresh().catch((error: unknown) => this.logger.warn(`Reading subscription changes failed: ${(error as Error)?.message ?? String(error)}`));
    this.unwatch = this.store.watch((signal) => {
      if (signal === 'registry') refresh();
    });
    this.refreshTimer = setInterval(() => {
      void this.store.registryVersion().then(
        (version) => version !== this.sync.version && refresh(),
        () => undefined,
      );
    }, REGISTRY_REFRESH_MS);
    this.refreshTimer.unref();
  }

  // ---------------------------------------------------------------- create / read

  /** Creates and activates a stored subscription; the result holds its signing secret, shown only now. */
  async create(input: CreateWebhookSubscriptionInput): Promise<WebhookSubscriptionWithSecret> {
    const { subscription, secret, headers } = await this.build(input, 'persistent', uuidv7());
    const stored = await this.store.insertSubscription(subscription, { secrets: [secret], headers });
    this.applyOwn(stored);
    this.events.emit(WebhookEvents.SubscriptionCreated, new WebhookSubscriptionEvent(subscriptionSnapshot(stored)));
    return withSecret(stored, secret.secret);
  }

  async get(id: string): Promise<WebhookSubscription | null> {
    const found = await this.find(id);
    return found ? subscriptionSnapshot(found) : null;
  }

  /** The subscription as the registry (static) or the store (stored) has it now, not copied. */
  private async find(id: string): Promise<WebhookSubscription | null> {
    if (typeof id !== 'string') return null;
    return this.statics.get(id) ?? (await this.store.findSubscription(id));
  }

  /** Like `get`, but throws `WebhookSubscriptionNotFoundError`. */
  async require(id: string): Promise<WebhookSubscription> {
    const subscription = await this.get(id);
    if (!subscription) throw new WebhookSubscriptionNotFoundError(id);
    return subscription;
  }

  private async requireFound(id: string): Promise<WebhookSubscription> {
    const subscription = await this.find(id);
    if (!subscription) throw new WebhookSubscriptionNotFoundError(id);
    return subscription;
  }

  /** Static subscriptions first, then stored ones in creation order. */
  async list(query: SubscriptionQuery & { source?: WebhookSubscriptionSource } = {}): Promise<WebhookSubscription[]> {
    const statics =
      query.source === 'persistent'
        ? []
        : [...this.statics.values()].filter((s) => query.ownerId === undefined || s.ownerId === query.ownerId);
    if (query.source === 'static') return statics.map(subscriptionSnapshot);
    const stored = await this.store.listSubscriptions(query);
    return [...statics, ...stored].map(subscriptionSnapshot);
  }

  // ---------------------------------------------------------------- change

  /** Changes a stored subscription; a new URL is validated again. `ownerId` cannot change. */
  async update(id: string, input: UpdateWebhookSubscriptionInput): Promise<WebhookSubscription> {
    const current = await this.requireFound(id);
    if (current.source === 'static') throw new WebhookSubscriptionOperationError(`Static subscription "${id}" is declared in code and cannot be updated`);
    const context = this.ruleContext('persistent');
    const patch: SubscriptionPatch = {};
    if (input.url !== undefined) patch.url = await checkUrl(input.url, context);
    if (input.events !== undefined) patch.events = checkEvents(input.events);
    if (input.payloadType !== undefined) patch.payloadType = checkPayloadType(input.payloadType, 'persistent');
    if (input.permission !== undefined) patch.permission = checkPermission(input.permission, current.ownerId, context);
    if (input.dialect !== undefined) patch.dialect = checkDialect(input.dialect, context);
    if (input.description !== undefined) patch.description = checkDescription(input.description);
    if (input.metadata !== undefined) patch.metadata = checkMetadata(input.metadata);
    const headers = input.headers !== undefined ? checkHeaders(input.headers) : undefined;
    if (headers !== undefined) patch.headerNames = Object.keys(headers);
    if (input.retrySchedule !== undefined) patch.retrySchedule = checkRetrySchedule(input.retrySchedule);
    const updated = await this.store.updateSubscription(id, { ...patch, updatedAt: this.clock.now() }, headers !== undefined ? { headers } : {});
    if (!updated) throw new WebhookSubscriptionNotFoundError(id);
    this.applyOwn(updated);
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
    if (current.active && (current.source === 'persistent' || this.index.has(id))) {
      if (current.source === 'persistent') this.applyStored(current);
      return false;
    }
    const updated = await this.patch(current, {
      active: true,
      statusMessage: SubscriptionStatusMessages.Active,
      preconditionFailures: 0,
      failingSince: null,
    });
    if (updated.source === 'static') this.index.add(updated);
    this.events.emit(WebhookEvents.SubscriptionActivated, new WebhookSubscriptionEvent(subscriptionSnapshot(updated)));
    return true;
  }

  /**
   * Deactivates a subscription: it keeps its history, gets no new attempts, and its pending retries are
   * cancelled. Returns true when it was active and false otherwise (seed: true, then false).
   */
  async deactivate(id: string, reason: WebhookDeactivationReason = 'manual', statusMessage?: string): Promise<boolean> {
    const current = await this.find(id);
    if (!current) return false;
    if (current.source === 'static' ? !this.index.remove(id) : !current.active) {
      if (current.source === 'persistent') this.applyStored(current);
      return false;
    }
    const now = this.clock.now();
    const updated = await this.patch(
      current,
      { active: false, statusMessage: statusMessage ?? (reason === 'manual' ? SubscriptionStatusMessages.Deactivated : current.statusMessage) },
      // Stored: in the same transaction, so no process claims a pending attempt of a subscription already inactive.
      { cancelPending: { message: AttemptMessages.Cancelled, now } },
    );
    // A static subscription is each process's own: with a shared store, its attempts are left to the processes
    // where it is still active.
    if (current.source === 'static' && !this.store.shared) await this.store.cancelPending(id, AttemptMessages.Cancelled, now);
    this.events.emit(WebhookEvents.SubscriptionDeactivated, new WebhookSubscriptionDeactivatedEvent(subscriptionSnapshot(updated), reason));
    return true;
  }

  /** Deletes a subscription and its history; it is deactivated first. Returns false if it did not exist. */
  async delete(id: string): Promise<boolean> {
    const current = await this.find(id);
    if (!current) return false;
    if (current.source === 'static') {
      this.index.remove(id);
      this.statics.delete(id);
      this.credentials.forget(id);
      // Deleting is asked for explicitly: its attempts go, also those other processes published for it.
      await this.store.cancelPending(id, AttemptMessages.Cancelled, this.clock.now());
      await this.store.clearAttempts(id);
    } else {
      // One transaction deletes the subscription with its attempts (pending ones included) and records the delete.
      const version = await this.store.deleteSubscription(id);
      if (version === null) return false;
      this.forgetStored(id, version);
      this.sync.noteOwnChange(version);
    }
    this.events.emit(WebhookEvents.SubscriptionDeleted, new WebhookSubscriptionEvent(subscriptionSnapshot({ ...current, active: false })));
    return true;
  }

  /** Deletes every subscription owned by `ownerId` (exact match) and returns them (seed `deleteSubscriptionsForPrincipal`). */
  async deleteSubscriptionsForOwner(ownerId: string): Promise<WebhookSubscription[]> {
    const owned = await this.list({ ownerId });
    const deleted: WebhookSubscription[] = [];
    for (const subscription of owned) if (await this.delete(subscription.id)) deleted.push(subscription);
    return deleted;
  }

  /**
   * Gives a subscription a new signing secret, returned once. The previous secrets keep signing beside it for
   * `overlapMs` (default `secrets.rotationOverlapMs`), so receivers can switch without losing deliveries.
   */
  async rotateSecret(id: string, overlapMs = this.options.secrets.rotationOverlapMs): Promise<WebhookSubscriptionWithSecret> {
    let subscription = await this.requireFound(id);
    const now = this.clock.now();
    const secret: StoredSigningSecret = { id: uuidv7(), subscriptionId: id, secret: generateSigningSecret(), createdAt: now, expiresAt: null };
    const expireOthersAt = new Date(now.getTime() + Math.max(0, overlapMs));
    if (subscription.source === 'static') {
      const current = this.credentials.staticOf(id) ?? { secrets: [], headers: {} };
      const others = current.secrets.map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < expireOthersAt ? s.expiresAt : expireOthersAt }));
      this.credentials.setStatic(id, { ...current, secrets: [secret, ...others] });
    } else {
      if ((await this.store.addSecret(secret, expireOthersAt)) === null) throw new WebhookSubscriptionNotFoundError(id);
      subscription = (await this.store.findSubscription(id)) ?? subscription;
      this.applyOwn(subscription);
    }
    return withSecret(subscription, secret.secret);
  }

  /**
   * What a delivery needs that nobody else may read: the secrets that sign now (newest first) and the values of
   * subscription-defined headers, decrypted once and kept until the subscription changes.
   */
  deliveryCredentialsOf(id: string): Promise<LiveCredentials> {
    return this.credentials.of(id);
  }

  /** `deliveryCredentialsOf` while its cached answer holds, synchronously; `undefined` when it must be loaded. */
  cachedDeliveryCredentialsOf(id: string): LiveCredentials | undefined {
    return this.credentials.cached(id);
  }

  // ---------------------------------------------------------------- registry queries

  /** Active subscriptions whose events and payload type match (seed `activeSubscriptions`); changes nothing. */
  activeSubscriptions(eventName: string, payload: unknown): WebhookSubscription[] {
    return this.index.match(eventName, payload).map(subscriptionSnapshot);
  }

  /**
   * The registry's own entries that match, not copied (they are frozen): for the dispatcher, which matches every
   * event. Call `registryVersion` before and pass it to the outbox write.
   */
  matchRegistry(eventName: string, payload: unknown): WebhookSubscription[] {
    return this.index.match(eventName, payload);
  }

  /** Ids of static subscriptions that are not active in this process. */
  inactiveStaticIds(): string[] {
    const ids: string[] = [];
    for (const id of this.statics.keys()) if (!this.index.has(id)) ids.push(id);
    return ids;
  }

  /** The registry's entry of an active subscription (no I/O, not copied), or undefined when inactive. */
  activeSubscription(id: string): WebhookSubscription | undefined {
    return this.index.get(id);
  }

  /** The registry version this process's registry is at (see `RegistrySync`). */
  get registryVersion(): number {
    return this.sync.version;
  }

  /** Reads and applies the subscription changes committed since, inside `context.manager`'s transaction when given. */
  refreshRegistry(context?: StoreWriteContext): Promise<void> {
    return this.sync.refresh(context);
  }

  /**
   * Resolves once every subscription change committed before the call is in the registry (stores shared by
   * processes); `undefined` when it is known to be so already, without waiting.
   */
  registryFence(): Promise<void> | undefined {
    return this.store.shared ? this.sync.fence() : undefined;
  }

  /**
   * Active subscriptions that are also applicable: the authorizer allows their owner to see the payload (seed
   * `subscriptionsToDeliver`). Precondition failures are counted and may deactivate a subscription.
   */
  async subscriptionsToDeliver(eventName: string, payload: unknown): Promise<WebhookSubscription[]> {
    return this.applicable(this.activeSubscriptions(eventName, payload), eventName, payload);
  }

  /** Keeps the subscriptions the authorizer allows, in order, counting precondition failures. */
  async applicable(candidates: readonly WebhookSubscription[], eventName: string, payload: unknown): Promise<WebhookSubscription[]> {
    const result: WebhookSubscription[] = [];
    for (const subscription of candidates) {
      const decision = await this.authorize(subscription, eventName, payload);
      if (decision === WebhookAuthorization.Allowed) result.push(subscription);
      else if (decision === WebhookAuthorization.PreconditionFailed) await this.countPreconditionFailure(subscription);
    }
    return result;
  }

  /** Whether the subscription's type matches and its owner may see the payload; ignores `active` (seed `isApplicable`). */
  async isApplicable(id: string, eventName: string, payload: unknown): Promise<boolean> {
    const subscription = await this.requireFound(id);
    const probe = new SubscriptionIndex();
    probe.add(subscription);
    if (probe.match(eventName, payload).length === 0) return false;
    return (await this.authorize(subscription, eventName, payload)) === WebhookAuthorization.Allowed;
  }

  // ---------------------------------------------------------------- internals used by delivery

  /** Records that deliveries started failing (time-based disable rule), or that they work again. */
  async setFailingSince(id: string, failingSince: Date | null): Promise<void> {
    const current = await this.find(id);
    if (!current || (current.failingSince === null) === (failingSince === null)) return;
    await this.patch(current, { failingSince });
  }

  /**
   * Asks the authorizer whether the subscription's owner may receive the payload. The authorizer is called before
   * the first `await`, so in the caller's async context (the dispatcher calls this inside `emit()`, where the
   * acting user's request context is). Never rejects: an authorizer that throws gives `precondition-failed`.
   */
  async authorize(subscription: WebhookSubscription, eventName: string, payload: unknown): Promise<WebhookAuthorization> {
    if (subscription.ownerId === null && subscription.permission === null) return WebhookAuthorization.Allowed;
    try {
      const decision = await this.authorizer.authorize({
        subscription,
        eventName,
        payload,
        ownerId: subscription.ownerId,
        permission: subscription.permission,
      });
      return Object.values(WebhookAuthorization).includes(decision) ? decision : WebhookAuthorization.PreconditionFailed;
    } catch (error) {
      this.logger.warn(`Authorizer failed for subscription ${subscription.id}: ${(error as Error)?.message ?? String(error)}`);
      return WebhookAuthorization.PreconditionFailed;
    }
  }

  /** Counts a precondition failure; at `limits.preconditionFailureLimit` the subscription is deactivated. */
  async countPreconditionFailure(subscription: WebhookSubscription): Promise<void> {
    let failures: number;
    if (subscription.source === 'static') {
      const current = this.statics.get(subscription.id);
      if (!current) return;
      failures = current.preconditionFailures + 1;
      this.setStatic({ ...current, preconditionFailures: failures });
    } else {
      failures = await this.store.incrementPreconditionFailures(subscription.id);
    }
    if (failures >= this.options.limits.preconditionFailureLimit) {
      const latest = (await this.get(subscription.id)) ?? subscriptionSnapshot(subscription);
      this.events.emit(WebhookEvents.PreconditionFailureLimitReached, new WebhookPreconditionFailureLimitReachedEvent(latest, failures));
      await this.deactivate(subscription.id, 'precondition-failures', SubscriptionStatusMessages.TooManyPreconditionFailures);
    }
  }

  private async patch(current: WebhookSubscription, patch: SubscriptionPatch, options: SubscriptionUpdateOptions = {}): Promise<WebhookSubscription> {
    const changes = { ...patch, updatedAt: this.clock.now() };
    if (current.source === 'static') {
      const updated = registryEntry({ ...current, ...changes });
      this.setStatic(updated);
      return updated;
    }
    const updated = await this.store.updateSubscription(current.id, changes, options);
    if (!updated) throw new WebhookSubscriptionNotFoundError(current.id);
    this.applyOwn(updated);
    return updated;
  }

  private setStatic(subscription: WebhookSubscription): void {
    const entry = registryEntry(subscription);
    this.statics.set(subscription.id, entry);
    this.index.refresh(entry);
  }

  // ---------------------------------------------------------------- following the store

  /** A change this process committed: into the registry at once, and counted as read when nothing came between. */
  private applyOwn(subscription: WebhookSubscription): void {
    this.applyStored(subscription);
    this.sync.noteOwnChange(subscription.revision);
  }

  /** Applies what `RegistrySync` read from the store (this process's changes and other processes'). */
  private applyChanges(changes: SubscriptionChanges): void {
    if (changes.complete) {
      const present = new Set(changes.changed.map((s) => s.id));
      // A subscription created after the read began has a later revision: the read does not know it yet.
      for (const [id, revision] of this.storedRevisions) if (!present.has(id) && revision <= changes.version) this.forgetStored(id, changes.version);
    }
    for (const id of changes.deleted) this.forgetStored(id, changes.version);
    for (const subscription of changes.changed) this.applyStored(subscription);
  }

  /** A stored subscription as of its revision: registered when active, dropped when not; older news is ignored. */
  private applyStored(subscription: WebhookSubscription): void {
    if (this.deletedAt.has(subscription.id)) return;
    const known = this.storedRevisions.get(subscription.id);
    if (known !== undefined && known > subscription.revision) return;
    if (known === subscription.revision && this.index.has(subscription.id) === subscription.active) return;
    this.storedRevisions.set(subscription.id, subscription.revision);
    this.credentials.invalidate(subscription.id);
    const entry = registryEntry(subscription);
    if (!entry.active) this.index.remove(entry.id);
    else if (!this.index.add(entry)) this.index.refresh(entry);
  }

  private forgetStored(id: string, version: number): void {
    this.storedRevisions.delete(id);
    if (this.deletedAt.size >= MAX_REMEMBERED_DELETES) this.deletedAt.clear();
    this.deletedAt.set(id, version);
    this.index.remove(id);
    this.credentials.forget(id);
  }

  private async createStatic(definition: StaticWebhookSubscription): Promise<void> {
    const id = definition.id ?? this.nextStaticId();
    if (typeof id !== 'string' || id.length === 0 || this.statics.has(id)) {
      throw new WebhookSubscriptionOperationError(`Static subscription id ${JSON.stringify(id)} is empty or used twice`);
    }
    if (definition.secret === undefined) {
      this.logger.warn(`Static subscription "${id}" has no secret; a random one was generated and receivers cannot know it. Set "secret".`);
    }
    const { subscription, secret, headers } = await this.build(definition, 'static', id);
    const entry = registryEntry(subscription);
    this.statics.set(id, entry);
    this.credentials.setStatic(id, { secrets: [secret], headers });
    this.index.add(entry);
  }

  /** Seed naming: `Subscription`, then `Subscription-2`, `Subscription-3`, … */
  private nextStaticId(): string {
    if (!this.statics.has(STATIC_ID_BASE)) return STATIC_ID_BASE;
    let n = 2;
    while (this.statics.has(`${STATIC_ID_BASE}-${n}`)) n++;
    return `${STATIC_ID_BASE}-${n}`;
  }

  private async build(
    input: CreateWebhookSubscriptionInput,
    source: WebhookSubscriptionSource,
    id: string,
  ): Promise<{ subscription: WebhookSubscription; secret: StoredSigningSecret; headers: Record<string, string> }> {
    if (input === null || typeof input !== 'object') throw new WebhookSubscriptionOperationError('A subscription definition must be an object');
    const context = this.ruleContext(source);
    const url = await checkUrl(input.url, context);
    const ownerId = checkOwnerId(input.ownerId);
    const now = this.clock.now();
    const headers = checkHeaders(input.headers);
    const subscription: WebhookSubscription = {
      id,
      source,
      url,
      events: checkEvents(input.events),
      payloadType: checkPayloadType(input.payloadType, source),
      ownerId,
      permission: checkPermission(input.permission, ownerId, context),
      dialect: checkDialect(input.dialect, context),
      active: true,
      statusMessage: SubscriptionStatusMessages.Active,
      description: checkDescription(input.description),
      metadata: checkMetadata(input.metadata),
      headerNames: Object.keys(headers),
      retrySchedule: checkRetrySchedule(input.retrySchedule),
      preconditionFailures: 0,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
      revision: 0,
    };
    const secret: StoredSigningSecret = {
      id: uuidv7(),
      subscriptionId: id,
      secret: checkSecret(input.secret) ?? generateSigningSecret(),
      createdAt: now,
      expiresAt: null,
    };
    return { subscription, secret, headers };
  }

  private ruleContext(source: WebhookSubscriptionSource): SubscriptionRuleContext {
    return {
      source,
      hasDialect: (name) => this.dialects.has(name),
      dialectNames: () => this.dialects.names(),
      permissions: this.options.authorization.permissions,
      defaultPermission: this.options.authorization.defaultPermission,
      // Static subscriptions are checked for syntax and scheme only: they are declared by the developer,
      // and their destinations are checked again on every try.
      checkUrl: (url) => (source === 'static' ? Promise.resolve(void this.destinations.parseTarget(url)) : this.destinations.validateSubscriptionUrl(url)),
    };
  }
}
