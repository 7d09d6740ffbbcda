import type { WebhookSubscription } from '../core/webhook-subscription.js';

/** Where a subscription sits in the listing order: creation time, then id (ids alone need not follow the clock). */
export interface SubscriptionPosition {
  createdAt: Date;
  id: string;
}

/** Which stored subscriptions to list, in creation order (`createdAt`, then `id`). */
export interface SubscriptionQuery {
  ownerId?: string;
  /** Exactly this scope (`null`: global subscriptions only). */
  scope?: string | null;
  limit?: number;
  offset?: number;
  /** Only those after this position (keyset paging: the last one of the previous page). */
  after?: SubscriptionPosition;
}

/** Stored subscriptions by state: `failing` are active with every delivery failing lately (`failingSince` set). */
export interface SubscriptionCounts {
  active: number;
  failing: number;
  inactive: number;
}

const PAGE = 1000;

/** The state a subscription is counted in. */
export function subscriptionState(subscription: WebhookSubscription): keyof SubscriptionCounts {
  if (!subscription.active) return 'inactive';
  return subscription.failingSince === null ? 'active' : 'failing';
}

/** Counts by reading every subscription, a page at a time in listing order (for stores with no grouped query). */
export async function countSubscriptionsByPage(list: (query: SubscriptionQuery) => Promise<WebhookSubscription[]>): Promise<SubscriptionCounts> {
  const counts: SubscriptionCounts = { active: 0, failing: 0, inactive: 0 };
  for (let after: SubscriptionPosition | undefined; ; ) {
    const page = await list({ limit: PAGE, after });
    for (const subscription of page) counts[subscriptionState(subscription)]++;
    if (page.length < PAGE) return counts;
    after = page.at(-1)!;
  }
}
