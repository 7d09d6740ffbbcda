import type { WebhookSubscription, WebhookSubscriptionWithSecret } from '../core/webhook-subscription.js';

/** Frozen copies of a subscription's arrays and metadata. */
function frozenParts(s: WebhookSubscription): Pick<WebhookSubscription, 'events' | 'metadata' | 'headerNames' | 'retrySchedule'> {
  return {
    events: Object.freeze([...s.events]),
    metadata: Object.freeze({ ...s.metadata }),
    headerNames: Object.freeze([...s.headerNames]),
    retrySchedule: s.retrySchedule ? Object.freeze([...s.retrySchedule]) : null,
  };
}

/**
 * A registry entry: frozen, with frozen arrays and metadata, so the dispatcher and the worker share it without
 * copying. Its dates are the registry's own: callers get `subscriptionSnapshot`s.
 */
export function registryEntry(s: WebhookSubscription): WebhookSubscription {
  if (Object.isFrozen(s) && Object.isFrozen(s.events)) return s;
  return Object.freeze({ ...s, ...frozenParts(s) });
}

/**
 * A frozen copy of a subscription for callers: its own dates, arrays and metadata, so nothing a caller does to it
 * reaches the registry's copy.
 */
export function subscriptionSnapshot(s: WebhookSubscription): WebhookSubscription {
  return Object.freeze({
    ...s,
    ...frozenParts(s),
    failingSince: s.failingSince ? new Date(s.failingSince.getTime()) : null,
    createdAt: new Date(s.createdAt.getTime()),
    updatedAt: new Date(s.updatedAt.getTime()),
  });
}

/**
 * The result of create/rotate. `secret` is a non-enumerable property: read it explicitly; logging the object or
 * serializing it to JSON does not show it.
 */
export function withSecret(subscription: WebhookSubscription, secret: string): WebhookSubscriptionWithSecret {
  const result = { subscription: subscriptionSnapshot(subscription) } as WebhookSubscriptionWithSecret;
  Object.defineProperty(result, 'secret', { value: secret, enumerable: false });
  return result;
}
