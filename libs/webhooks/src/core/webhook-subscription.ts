import type { Type } from '@nestjs/common';

/**
 * Where a subscription comes from: declared in code (`static`, memory only), created through the API
 * (`persistent`, stored), or declared in configuration and kept in sync at start (`declared`, stored).
 */
export type WebhookSubscriptionSource = 'static' | 'persistent' | 'declared';

/**
 * A payload type a subscription is for: a class (instances of it and of its subclasses match) or the name a
 * class was registered under with `@WebhookPayload()` / `payloadTypes` (matches the same way). Stored
 * subscriptions can only hold names.
 */
export type WebhookPayloadTypeRef = string | Type<unknown>;

/**
 * A subscription as callers see it (`nti.webhooks`' `IWebhookSubscription`). It never carries the signing secret:
 * secrets are write-only and returned once, by `create` and `rotateSecret`.
 */
export interface WebhookSubscription {
  readonly id: string;
  readonly source: WebhookSubscriptionSource;
  /** Destination URL (`nti.webhooks`' `to`). */
  readonly url: string;
  /** EventEmitter2 patterns with `.` delimiter (`nti.webhooks`' `when`); `['**']` matches every event. */
  readonly events: readonly string[];
  /** Payload type (`nti.webhooks`' `for_`); `null` matches any payload. */
  readonly payloadType: WebhookPayloadTypeRef | null;
  /**
   * Where the subscription lives: `null` for global, or a normalised absolute path such as `/acme/sales` (a tenant,
   * or a department of one). It receives events of objects in that scope or below it, and events published while
   * that scope or one below it is current (`nti.webhooks`' site managers).
   */
  readonly scope: string | null;
  readonly ownerId: string | null;
  readonly permission: string | null;
  /** Name of the dialect; `null` means the module's default dialect. */
  readonly dialect: string | null;
  /** Changed only through `WebhookSubscriptionManager.activate/deactivate`. */
  readonly active: boolean;
  readonly statusMessage: string;
  readonly description: string | null;
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * Names of the extra request headers sent with every delivery (for example a receiver's own auth header).
   * Their values are write-only, like the signing secret: stored encrypted, never returned, `[redacted]` in
   * attempt records.
   */
  readonly headerNames: readonly string[];
  /** Per-subscription retry schedule in milliseconds; `null` uses the module's schedule. */
  readonly retrySchedule: readonly number[] | null;
  /** Attempts kept in its history, and the all-failed deactivation threshold; `null` uses `limits.attemptLimit`. */
  readonly attemptLimit: number | null;
  /** Precondition failures before it is deactivated; `null` uses `limits.preconditionFailureLimit`. */
  readonly preconditionFailureLimit: number | null;
  /** Precondition failures counted since the last activation (`nti.webhooks`' `applicable_precondition_failure_limit`). */
  readonly preconditionFailures: number;
  /** When every delivery started failing (cleared by a success); drives the time-based disable rule. */
  readonly failingSince: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /**
   * The registry version of the subscription's last committed change (0 for static subscriptions). Every change,
   * made by any process, raises it.
   */
  readonly revision: number;
}

/** The result of creating a subscription or rotating its secret: the only time a secret is shown. */
export interface WebhookSubscriptionWithSecret {
  subscription: WebhookSubscription;
  /**
   * `whsec_` + base64 of the raw key: what receivers pass to `standardwebhooks`/`svix`. Non-enumerable, so it
   * stays out of logs and `JSON.stringify` unless read explicitly.
   */
  secret: string;
}
