import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { WebhookClock } from '../clock.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookDestinationValidator } from '../destinations/webhook-destination.validator.js';
import { WebhookAuthorization, WebhookAuthorizer } from '../dispatch/webhook-authorizer.js';
import { WebhookEventPublisher } from '../events/webhook-event-publisher.js';
import {
  type WebhookDeactivationReason,
  WebhookPreconditionFailureLimitReachedEvent,
  WebhookSubscriptionDeactivatedEvent,
  WebhookSubscriptionEvent,
} from '../events/webhook-events.js';
import { SubscriptionIndex } from '../matching/subscription-index.js';
import { registerPayloadType } from '../payloads/webhook-payload.decorator.js';
import { generateSigningSecret } from '../secrets/signing-secret.js';
import {
  type StoredSigningSecret,
  type SubscriptionCredentials,
  type SubscriptionPatch,
  type SubscriptionQuery,
  WebhookStore,
} from '../storage/webhook-store.js';
import { SubscriptionStatusMessages, WEBHOOKS_OPTIONS, WebhookEvents } from '../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../webhooks.options.js';
import type {
  CreateWebhookSubscriptionInput,
  StaticWebhookSubscription,
  UpdateWebhookSubscriptionInput,
} from './subscription-input.js';
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
import { WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from './subscription.errors.js';
import type { WebhookSubscription, WebhookSubscriptionSource, WebhookSubscriptionWithSecret } from './webhook-subscription.js';

/** Message of attempts cancelled because their subscription stopped. */
export const CANCELLED_ATTEMPT_MESSAGE = 'Cancelled because the subscription was deactivated or deleted.';

const STATIC_ID_BASE = 'Subscription';
const CREDENTIAL_CACHE_MS = 1000;

/**
 * The result of create/rotate. `secret` is a non-enumerable property: read it explicitly; logging the object
 * or serializing it to JSON does not show it.
 */
function withSecret(subscription: WebhookSubscription, secret: string): WebhookSubscriptionWithSecret {
  const result = { subscription } as WebhookSubscriptionWithSecret;
  Object.defineProperty(result, 'secret', { value: secret, enumerable: false });
  return result;
}

/**
 * Creates, changes and finds subscriptions, and is the registry that says which active subscriptions an
 * event goes to (seed `IWebhookSubscriptionManager` + `IWebhookSubscriptionRegistry`). Static subscriptions
 * from `forRoot({ subscriptions })` live in memory; the others in the configured `WebhookStore`. Only this
 * service activates and deactivates subscriptions.
 */
@Injectable()
export class WebhookSubscriptionManager implements OnModuleInit {
  private readonly logger = new Logger('WebhookSubscriptionManager');
  private readonly index = new SubscriptionIndex();
  private readonly statics = new Map<string, WebhookSubscription>();
  private readonly staticCredentials = new Map<string, SubscriptionCredentials>();
  private readonly credentialCache = new Map<string, { until: number; credentials: SubscriptionCredentials }>();
  private readonly liveCache = new Map<
    string,
    { value: { secrets: string[]; headers: Record<string, string> }; source: SubscriptionCredentials | undefined; validUntil: number; until: number }
  >();
  private initialized: Promise<void> | null = null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly dialects: WebhookDialectRegistry,
    private readonly destinations: WebhookDestinationValidator,
    private readonly authorizer: WebhookAuthorizer,
    private readonly events: WebhookEventPublisher,
    private readonly clock: WebhookClock,
  ) {}

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
      const stored = await this.store.listSubscriptions();
      for (const subscription of stored) if (subscription.active) this.index.add(subscription);
      this.logger.log(`Webhook registry ready: ${this.statics.size} static, ${stored.length} stored subscription(s)`);
    })();
    return this.initialized;
  }

  // ---------------------------------------------------------------- create / read

  /** Creates and activates a stored subscription; the result holds its signing secret, shown only now. */
  async create(input: CreateWebhookSubscriptionInput): Promise<WebhookSubscriptionWithSecret> {
    const { subscription, secret, headers } = await this.build(input, 'persistent', uuidv7());
    await this.store.insertSubscription(subscription, { secrets: [secret], headers });
    this.index.add(subscription);
    this.events.emit(WebhookEvents.SubscriptionCreated, new WebhookSubscriptionEvent(subscription));
    return withSecret(subscription, secret.secret);
  }

  async get(id: string): Promise<WebhookSubscription | null> {
    if (typeof id !== 'string') return null;
    return this.statics.get(id) ?? (await this.store.findSubscription(id));
  }

  /** Like `get`, but throws `WebhookSubscriptionNotFoundError`. */
  async require(id: string): Promise<WebhookSubscription> {
    const subscription = await this.get(id);
    if (!subscription) throw new WebhookSubscriptionNotFoundError(id);
    return subscription;
  }

  /** Static subscriptions first, then stored ones in creation order. */
  async list(query: SubscriptionQuery & { source?: WebhookSubscriptionSource } = {}): Promise<WebhookSubscription[]> {
    const statics =
      query.source === 'persistent'
        ? []
        : [...this.statics.values()].filter((s) => query.ownerId === undefined || s.ownerId === query.ownerId);
    if (query.source === 'static') return statics;
    const stored = await this.store.listSubscriptions(query);
    return [...statics, ...stored];
  }

  // ---------------------------------------------------------------- change

  /** Changes a stored subscription; a new URL is validated again. `ownerId` cannot change. */
  async update(id: string, input: UpdateWebhookSubscriptionInput): Promise<WebhookSubscription> {
    const current = await this.require(id);
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
    if (headers !== undefined) {
      await this.store.setHeaders(id, headers);
      this.credentialCache.delete(id);
    }
    const updated = await this.store.updateSubscription(id, { ...patch, updatedAt: this.clock.now() });
    if (!updated) throw new WebhookSubscriptionNotFoundError(id);
    this.index.refresh(updated);
    this.events.emit(WebhookEvents.SubscriptionUpdated, new WebhookSubscriptionEvent(updated));
    return updated;
  }

  /**
   * Activates a subscription: it receives events again, its status message becomes `Active` and its
   * precondition-failure counter and failing-since time are reset. Idempotent. Returns true when it was
   * inactive.
   */
  async activate(id: string): Promise<boolean> {
    const current = await this.require(id);
    if (current.active && this.index.has(id)) return false;
    const updated = await this.patch(current, {
      active: true,
      statusMessage: SubscriptionStatusMessages.Active,
      preconditionFailures: 0,
      failingSince: null,
    });
    this.index.add(updated);
    this.events.emit(WebhookEvents.SubscriptionActivated, new WebhookSubscriptionEvent(updated));
    return true;
  }

  /**
   * Deactivates a subscription: it keeps its history, gets no new attempts, and its pending retries are
   * cancelled. Returns true when it was active and false otherwise (seed: true, then false).
   */
  async deactivate(id: string, reason: WebhookDeactivationReason = 'manual', statusMessage?: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current || !this.index.remove(id)) return false;
    const updated = await this.patch(current, {
      active: false,
      statusMessage: statusMessage ?? (reason === 'manual' ? SubscriptionStatusMessages.Deactivated : current.statusMessage),
    });
    await this.store.cancelPending(id, CANCELLED_ATTEMPT_MESSAGE, this.clock.now());
    this.events.emit(WebhookEvents.SubscriptionDeactivated, new WebhookSubscriptionDeactivatedEvent(updated, reason));
    return true;
  }

  /** Deletes a subscription and its history; it is deactivated first. Returns false if it did not exist. */
  async delete(id: string): Promise<boolean> {
    const current = await this.get(id);
    if (!current) return false;
    this.index.remove(id);
    await this.store.cancelPending(id, CANCELLED_ATTEMPT_MESSAGE, this.clock.now());
    if (current.source === 'static') {
      this.statics.delete(id);
      this.staticCredentials.delete(id);
      await this.store.clearAttempts(id);
    } else if (!(await this.store.deleteSubscription(id))) return false;
    this.credentialCache.delete(id);
    const deleted = { ...current, active: false };
    this.events.emit(WebhookEvents.SubscriptionDeleted, new WebhookSubscriptionEvent(deleted));
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
    const subscription = await this.require(id);
    const now = this.clock.now();
    const secret: StoredSigningSecret = { id: uuidv7(), subscriptionId: id, secret: generateSigningSecret(), createdAt: now, expiresAt: null };
    const expireOthersAt = new Date(now.getTime() + Math.max(0, overlapMs));
    if (subscription.source === 'static') {
      const current = this.staticCredentials.get(id) ?? { secrets: [], headers: {} };
      const others = current.secrets.map((s) => ({ ...s, expiresAt: s.expiresAt && s.expiresAt < expireOthersAt ? s.expiresAt : expireOthersAt }));
      this.staticCredentials.set(id, { ...current, secrets: [secret, ...others] });
    } else {
      await this.store.addSecret(secret, expireOthersAt);
      this.credentialCache.delete(id);
    }
    return withSecret(subscription, secret.secret);
  }

  /**
   * What a delivery needs that nobody else may read: the secrets that sign now (newest first) and the values
   * of subscription-defined headers. Stored credentials are cached for a second (decrypting them on every try
   * would cost a query each); a change in this process clears the cache at once, one in another process shows
   * within that second.
   */
  async deliveryCredentials(ids: readonly string[]): Promise<Map<string, { secrets: string[]; headers: Record<string, string> }>> {
    const now = this.clock.now();
    const realNow = Date.now();
    const missing = ids.filter((id) => !this.statics.has(id) && !((this.credentialCache.get(id)?.until ?? 0) > realNow));
    if (missing.length > 0) {
      const loaded = await this.store.credentials(missing);
      for (const id of missing) {
        this.credentialCache.set(id, { until: realNow + CREDENTIAL_CACHE_MS, credentials: loaded.get(id) ?? { secrets: [], headers: {} } });
      }
      if (this.credentialCache.size > 100_000) this.credentialCache.clear();
    }
    const result = new Map<string, { secrets: string[]; headers: Record<string, string> }>();
    for (const id of ids) {
      const credentials = this.staticCredentials.get(id) ?? this.credentialCache.get(id)?.credentials ?? { secrets: [], headers: {} };
      result.set(id, {
        secrets: credentials.secrets.filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret),
        headers: credentials.headers,
      });
    }
    return result;
  }

  /**
   * `deliveryCredentialsOf` while its cached answer holds, synchronously (every try of every attempt asks;
   * this spares the hot path a promise); `undefined` when it must be loaded.
   */
  cachedDeliveryCredentialsOf(id: string): { secrets: string[]; headers: Record<string, string> } | undefined {
    const cached = this.liveCache.get(id);
    if (!cached || cached.until <= Date.now() || cached.validUntil <= this.clock.now().getTime()) return undefined;
    return cached.source === (this.staticCredentials.get(id) ?? this.credentialCache.get(id)?.credentials) ? cached.value : undefined;
  }

  /** `deliveryCredentials` for one subscription, without allocating while the cached answer holds. */
  async deliveryCredentialsOf(id: string): Promise<{ secrets: string[]; headers: Record<string, string> }> {
    const cached = this.cachedDeliveryCredentialsOf(id);
    if (cached) return cached;
    const now = this.clock.now().getTime();
    const value = (await this.deliveryCredentials([id])).get(id)!;
    const source = this.staticCredentials.get(id) ?? this.credentialCache.get(id)?.credentials;
    // The answer holds until the next secret expiry (by the library clock) and the cache time (real time).
    const validUntil = Math.min(...(source?.secrets ?? []).filter((s) => s.expiresAt !== null && s.expiresAt.getTime() > now).map((s) => s.expiresAt!.getTime()), Number.POSITIVE_INFINITY);
    if (this.liveCache.size > 100_000) this.liveCache.clear();
    this.liveCache.set(id, { value, source, validUntil, until: this.credentialCache.get(id)?.until ?? Number.POSITIVE_INFINITY });
    return value;
  }

  // ---------------------------------------------------------------- registry queries

  /** Active subscriptions whose events and payload type match (seed `activeSubscriptions`); changes nothing. */
  activeSubscriptions(eventName: string, payload: unknown): WebhookSubscription[] {
    return this.index.match(eventName, payload);
  }

  /** The registry's current snapshot of an active subscription (no I/O), or undefined when inactive. */
  activeSubscription(id: string): WebhookSubscription | undefined {
    return this.index.get(id);
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
    const subscription = await this.require(id);
    const probe = new SubscriptionIndex();
    probe.add(subscription);
    if (probe.match(eventName, payload).length === 0) return false;
    return (await this.authorize(subscription, eventName, payload)) === WebhookAuthorization.Allowed;
  }

  // ---------------------------------------------------------------- internals used by delivery

  /** Records that deliveries started failing (time-based disable rule), or that they work again. */
  async setFailingSince(id: string, failingSince: Date | null): Promise<void> {
    const current = await this.get(id);
    if (!current || (current.failingSince === null) === (failingSince === null)) return;
    await this.patch(current, { failingSince });
  }

  private async authorize(subscription: WebhookSubscription, eventName: string, payload: unknown): Promise<WebhookAuthorization> {
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

  private async countPreconditionFailure(subscription: WebhookSubscription): Promise<void> {
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
      const latest = (await this.get(subscription.id)) ?? subscription;
      this.events.emit(WebhookEvents.PreconditionFailureLimitReached, new WebhookPreconditionFailureLimitReachedEvent(latest, failures));
      await this.deactivate(subscription.id, 'precondition-failures', SubscriptionStatusMessages.TooManyPreconditionFailures);
    }
  }

  private async patch(current: WebhookSubscription, patch: SubscriptionPatch): Promise<WebhookSubscription> {
    const changes = { ...patch, updatedAt: this.clock.now() };
    if (current.source === 'static') {
      const updated = { ...current, ...changes };
      this.setStatic(updated);
      return updated;
    }
    const updated = await this.store.updateSubscription(current.id, changes);
    if (!updated) throw new WebhookSubscriptionNotFoundError(current.id);
    this.index.refresh(updated);
    return updated;
  }

  private setStatic(subscription: WebhookSubscription): void {
    const frozen = Object.freeze(subscription);
    this.statics.set(subscription.id, frozen);
    this.index.refresh(frozen);
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
    this.statics.set(id, Object.freeze(subscription));
    this.staticCredentials.set(id, { secrets: [secret], headers });
    this.index.add(subscription);
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
