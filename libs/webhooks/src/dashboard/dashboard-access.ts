import { Injectable, NotFoundException } from '@nestjs/common';
import { OwnerWebhookAccessPolicy, type WebhookAccessAction, WebhookAccessPolicy, type WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WebhookDeliveryManager } from '../operations/webhook-delivery.manager.js';
import type { AttemptSearch } from '../storage/attempt-queries.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';

/** The subscriptions a principal may view. */
export interface VisibleSubscriptions {
  list: WebhookSubscription[];
  /** The principal may view every subscription there is: a search need not name them. */
  everything: boolean;
}

/** Subscription ids per search: a database caps the values of one statement (SQLite at 32,766). */
export const IDS_PER_SEARCH = 500;

const newestFirst = (a: WebhookAttempt, b: WebhookAttempt) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * Subscriptions and attempts as one principal may see and change them, decided by `WebhookAccessPolicy`.
 * What the principal may not act on answers exactly like what does not exist (404), so ids reveal nothing.
 */
@Injectable()
export class DashboardAccess {
  constructor(
    private readonly subscriptionManager: WebhookSubscriptionManager,
    private readonly delivery: WebhookDeliveryManager,
    private readonly policy: WebhookAccessPolicy,
  ) {}

  /** Every subscription the principal may view, static ones first, then stored ones in creation order. */
  async subscriptions(principal: WebhookPrincipal): Promise<VisibleSubscriptions> {
    // The default policy shows someone who is not an administrator their own subscriptions only: only those are
    // read. Any other policy decides on each subscription (it may grant more, or less, than ownership).
    const ownOnly = Object.getPrototypeOf(this.policy) === OwnerWebhookAccessPolicy.prototype && !principal.admin;
    const candidates = await this.subscriptionManager.list(ownOnly ? { ownerId: principal.id } : {});
    const list = candidates.filter((s) => this.policy.can(principal, 'view', s));
    return { list, everything: !ownOnly && list.length === candidates.length };
  }

  async subscription(principal: WebhookPrincipal, id: string, action: WebhookAccessAction): Promise<WebhookSubscription> {
    const subscription = await this.subscriptionManager.get(id);
    if (!subscription || !this.policy.can(principal, action, subscription)) throw new NotFoundException();
    return subscription;
  }

  /** The subscription when it exists and the principal may view it; `null` otherwise (an attempt's page links it only then). */
  async viewable(principal: WebhookPrincipal, id: string): Promise<WebhookSubscription | null> {
    const subscription = await this.subscriptionManager.get(id);
    return subscription && this.policy.can(principal, 'view', subscription) ? subscription : null;
  }

  /**
   * Attempts matching `search` among `subscriptionIds` (all of `visible` when not given), newest first, at most
   * `search.limit`; the caller still filters them with `visibleAttempts`. A principal who sees every subscription
   * searches without a list of ids; otherwise the ids go `IDS_PER_SEARCH` at a time and the pages merge.
   */
  async searchAttempts(visible: VisibleSubscriptions, search: Omit<AttemptSearch, 'subscriptionIds'> & { limit: number }, subscriptionIds?: readonly string[]): Promise<WebhookAttempt[]> {
    if (!subscriptionIds && visible.everything) return this.delivery.searchAttempts(search);
    const ids = subscriptionIds ?? visible.list.map((s) => s.id);
    if (ids.length <= IDS_PER_SEARCH) return this.delivery.searchAttempts({ ...search, subscriptionIds: ids });
    const pages: WebhookAttempt[] = [];
    for (let i = 0; i < ids.length; i += IDS_PER_SEARCH) {
      pages.push(...(await this.delivery.searchAttempts({ ...search, subscriptionIds: ids.slice(i, i + IDS_PER_SEARCH) })));
    }
    // The store orders by id (ids sort by creation time): the merged pages in the same order.
    return pages.sort(newestFirst).slice(0, search.limit);
  }

  /** The attempts of a page the principal may view (`WebhookAccessPolicy.canAttempt`), given their subscriptions by id. */
  visibleAttempts(principal: WebhookPrincipal, attempts: readonly WebhookAttempt[], subscriptions: ReadonlyMap<string, WebhookSubscription>): WebhookAttempt[] {
    return attempts.filter((a) => this.policy.canAttempt(principal, 'view', a, subscriptions.get(a.subscriptionId) ?? null));
  }

  async attempt(principal: WebhookPrincipal, id: string, action: WebhookAccessAction): Promise<WebhookAttempt> {
    const attempt = await this.delivery.getAttempt(id);
    if (!attempt || !(await this.delivery.mayAccessAttempt(principal, action, attempt))) throw new NotFoundException();
    return attempt;
  }
}
