import type { PublishedWebhookEvent } from '../core/webhook-shipment.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { SubscriptionAuthorization } from '../access/subscription-authorization.js';
import { WebhookAuthorization } from '../access/webhook-authorizer.js';
import type { WebhookStore } from '../storage/webhook-store.js';
import type { SubscriptionRegistry } from '../subscriptions/subscription-registry.js';
import type { TraceParent } from '../tracing/webhook-spans.js';

/** An event on its way to phase 1. */
export interface QueuedEvent {
  event: PublishedWebhookEvent;
  /**
   * Authorizations started inside `emit()`, in its async context (where the acting user is), by subscription id,
   * with the revision they were asked for.
   */
  authorized?: Map<string, { revision: number; decision: Promise<WebhookAuthorization> }>;
  /** `publishTo`: this subscription only, without matching or the authorizer. */
  target?: string;
  /** The tracing context it was published in (the parent of its publish span), when something traces. */
  traceParent?: TraceParent;
}

/** Which subscriptions receive an event: the registry's matches, filtered by the authorizer. */
export class EventRecipients {
  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly store: WebhookStore,
    private readonly authorization: SubscriptionAuthorization,
  ) {}

  /** The event's subscriptions that may receive it, in the registry's order; precondition failures are collected. */
  async of(queued: QueuedEvent, preconditionFailures: WebhookSubscription[]): Promise<WebhookSubscription[]> {
    const { event } = queued;
    if (queued.target !== undefined) {
      const target = this.registry.active(queued.target);
      // Known to the registry at this version or not active: the write's check tells which.
      if (target) return [target];
      if (!this.store.shared || (await this.store.registryVersion()) === this.registry.version) {
        throw new WebhookSubscriptionOperationError(`Subscription "${queued.target}" is not active`);
      }
      await this.registry.refresh();
      return this.of(queued, preconditionFailures);
    }
    const candidates = this.registry.match(event.name, event.payload, event.scopes);
    if (candidates.every((s) => s.ownerId === null && s.permission === null)) return candidates;
    const allowed: WebhookSubscription[] = [];
    for (const subscription of candidates) {
      const early = queued.authorized?.get(subscription.id);
      const decision = await (early && early.revision === subscription.revision
        ? early.decision
        : this.authorization.authorize(subscription, event.name, event.payload, event.scopes));
      if (decision === WebhookAuthorization.Allowed) allowed.push(subscription);
      else if (decision === WebhookAuthorization.PreconditionFailed) preconditionFailures.push(subscription);
    }
    return allowed;
  }

  /**
   * Starts the authorizer for the subscriptions that need it now, inside `emit()`: it runs in the emitting code's
   * async context, so an authorizer that reads the acting user from its request context (nestjs-cls,
   * AsyncLocalStorage) sees that event's user even when several events are written together later.
   */
  authorizeNow(queued: QueuedEvent, candidates: readonly WebhookSubscription[]): void {
    for (const subscription of candidates) {
      if (subscription.ownerId === null && subscription.permission === null) continue;
      queued.authorized ??= new Map();
      queued.authorized.set(subscription.id, {
        revision: subscription.revision,
        decision: this.authorization.authorize(subscription, queued.event.name, queued.event.payload, queued.event.scopes),
      });
    }
  }
}
