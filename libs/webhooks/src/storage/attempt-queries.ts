import type { WebhookAttemptStatus } from '../core/webhook-attempt.js';

/** Which attempts of a subscription to list, newest first. */
export interface AttemptQuery {
  status?: WebhookAttemptStatus;
  limit?: number;
  /** Only attempts older than this attempt id (ids sort by creation time). */
  before?: string;
}

/** Which attempts to list across subscriptions, newest first: every given condition holds. */
export interface AttemptSearch extends AttemptQuery {
  /** Only attempts of these subscriptions (an empty list matches nothing). */
  subscriptionIds?: readonly string[];
  /** Only attempts of this event (exact name). */
  eventName?: string;
  /** Only attempts created at or after this time. */
  since?: Date;
  /** Only attempts created before this time. */
  until?: Date;
}

/** How many attempts a subscription has, by status. */
export interface AttemptCounts {
  total: number;
  pending: number;
  failed: number;
  successful: number;
}

/** The outbox across subscriptions: attempts not yet resolved. */
export interface OutboxStats {
  pending: number;
  /** When the oldest pending attempt was created; `null` when none is pending. */
  oldestPendingAt: Date | null;
  /**
   * The earliest time a pending attempt is due (its first try, or its next retry): once it is past, how long work
   * has waited for a worker. Retries scheduled for later do not count. `null` when none is pending.
   */
  oldestDueAt: Date | null;
}
