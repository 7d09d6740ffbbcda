import type { WebhookSubscription } from './webhook-subscription.js';

/**
 * A frozen copy of a subscription for callers: its own dates, arrays and metadata, so nothing a caller does to it
 * reaches the registry's copy.
 */
export function subscriptionSnapshot(s: WebhookSubscription): WebhookSubscription {
  return Object.freeze({
    ...s,
    events: Object.freeze([...s.events]),
    metadata: Object.freeze({ ...s.metadata }),
    headerNames: Object.freeze([...s.headerNames]),
    retrySchedule: s.retrySchedule ? Object.freeze([...s.retrySchedule]) : null,
    failingSince: s.failingSince ? new Date(s.failingSince.getTime()) : null,
    createdAt: new Date(s.createdAt.getTime()),
    updatedAt: new Date(s.updatedAt.getTime()),
  });
}
