import type { WebhookAttempt } from './webhook-attempt.js';
import type { WebhookSubscription } from './webhook-subscription.js';

/** Where an event happens: the scope current when it was published, and the scope of its object. */
export interface EventScopes {
  readonly current: string | null;
  readonly payload: string | null;
}

/** An application event on its way to subscribers. */
export interface PublishedWebhookEvent {
  name: string;
  payload: unknown;
  occurredAt: Date;
  /** A free-form note kept in each attempt's internal info (`nti.webhooks`: the transaction note, e.g. a request path). */
  note?: string | null;
  /**
   * Publishing the same key twice produces one attempt per subscription (the second publish is an
   * idempotency hit and creates nothing).
   */
  idempotencyKey?: string | null;
  /** Where it happened; unscoped when absent. */
  scopes?: EventScopes;
}

/** One (subscription, event) pair to create an attempt for (`nti.webhooks`: `(subscription, attempt)` pairs). */
export interface WebhookDelivery {
  subscription: WebhookSubscription;
  event: PublishedWebhookEvent;
}

/**
 * What phase 1 (`createShipmentInfo`) produced and phase 2 (`acceptForDelivery`) sends: attempts created
 * pending (to send) and attempts that failed at creation (payload could not be externalized, too large, …),
 * whose events are announced only after the unit of work commits.
 */
export interface WebhookShipment {
  readonly pending: readonly WebhookAttempt[];
  readonly failed: readonly WebhookAttempt[];
}

export const EMPTY_SHIPMENT: WebhookShipment = Object.freeze({ pending: [], failed: [] });
