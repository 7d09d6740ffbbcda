import type { WebhookSubscription } from '../core/webhook-subscription.js';
import type { PayloadTypeChain } from '../payloads/payload-type-chain.js';
import type { EventScopes } from '../core/webhook-shipment.js';
import { NO_SCOPES, scopesReached } from './scope-lineage.js';
import { SubscriptionIndex } from './subscription-index.js';

/**
 * Active subscriptions indexed by scope, then by event pattern and payload type. An event visits the global index
 * and the index of each scope it reaches (its lineages), so its cost depends on the depth of its scopes and the
 * matches, not on how many scopes or subscriptions there are.
 */
export class ScopedSubscriptionIndex {
  private readonly global: SubscriptionIndex;
  private readonly byScope = new Map<string, SubscriptionIndex>();
  /** The scope each registered subscription is indexed under. */
  private readonly scopeOf = new Map<string, string | null>();

  constructor(private readonly payloadTypes: { chainOf(payload: unknown): PayloadTypeChain }) {
    this.global = new SubscriptionIndex(payloadTypes);
  }

  has(id: string): boolean {
    return this.scopeOf.has(id);
  }

  get(id: string): WebhookSubscription | undefined {
    return this.scopeOf.has(id) ? this.indexFor(this.scopeOf.get(id)!)?.get(id) : undefined;
  }

  /** Registers a subscription; false when it was already registered. */
  add(subscription: WebhookSubscription): boolean {
    if (this.scopeOf.has(subscription.id)) return false;
    let index = this.indexFor(subscription.scope);
    if (!index) this.byScope.set(subscription.scope!, (index = new SubscriptionIndex(this.payloadTypes)));
    this.scopeOf.set(subscription.id, subscription.scope);
    return index.add(subscription);
  }

  /** Unregisters a subscription; false when it was not registered. */
  remove(id: string): boolean {
    if (!this.scopeOf.has(id)) return false;
    const scope = this.scopeOf.get(id)!;
    this.scopeOf.delete(id);
    const index = this.indexFor(scope)!;
    index.remove(id);
    if (scope !== null && index.size === 0) this.byScope.delete(scope);
    return true;
  }

  /** Replaces a registered subscription's entry (a subscription's scope never changes). */
  refresh(subscription: WebhookSubscription): void {
    if (this.scopeOf.has(subscription.id)) this.indexFor(this.scopeOf.get(subscription.id)!)!.refresh(subscription);
  }

  /** Global matches first, then each scope's from the root to the leaves; each subscription once. */
  match(eventName: string, payload: unknown, scopes: EventScopes = NO_SCOPES): WebhookSubscription[] {
    const found = this.global.match(eventName, payload);
    const reached = scopesReached(scopes);
    if (reached.length === 0 || this.byScope.size === 0) return found;
    for (const scope of reached) {
      const index = this.byScope.get(scope);
      if (index) found.push(...index.match(eventName, payload));
    }
    return found;
  }

  private indexFor(scope: string | null): SubscriptionIndex | undefined {
    return scope === null ? this.global : this.byScope.get(scope);
  }
}
