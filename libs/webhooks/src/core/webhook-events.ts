import type { WebhookAttempt, WebhookAttemptTry } from './webhook-attempt.js';
import type { WebhookSubscription } from './webhook-subscription.js';

/** Payload of `webhooks.attempt.succeeded` and `webhooks.attempt.failed`. */
export class WebhookAttemptResolvedEvent {
  constructor(
    readonly attempt: WebhookAttempt,
    readonly subscription: WebhookSubscription,
    readonly succeeded: boolean,
  ) {}
}

/**
 * Payload of `webhooks.attempt.tried`: one try ended. `outcome` says what follows: `successful` and `failed`
 * resolve the attempt, `retrying` schedules another try at `attempt.nextAttemptAt`.
 */
export class WebhookAttemptTriedEvent {
  constructor(
    /** The attempt as stored after the try. */
    readonly attempt: WebhookAttempt,
    readonly tried: WebhookAttemptTry,
    readonly subscription: WebhookSubscription,
    readonly outcome: 'successful' | 'retrying' | 'failed',
    /** Whether the try sent a request; `false` when it ended before any (a cancelled attempt, a refused address). */
    readonly requestSent = true,
  ) {}
}

/** Payload of `webhooks.subscription.created/updated/deleted/activated`. */
export class WebhookSubscriptionEvent {
  constructor(
    readonly subscription: WebhookSubscription,
    /** For `deleted`: the pending attempts that went with it, never sent (0 for the other events). */
    readonly cancelledAttempts = 0,
  ) {}
}

/**
 * Why a subscription stopped: `manual` (the manager was asked), `deleted`, `delivery-failures` (`nti.webhooks`'
 * all-failed rule), `precondition-failures`, `gone` (the endpoint answered 410), `failing-too-long` (the
 * time rule), `declaration-removed` (its declaration left the configuration).
 */
export type WebhookDeactivationReason =
  | 'manual'
  | 'deleted'
  | 'delivery-failures'
  | 'precondition-failures'
  | 'gone'
  | 'failing-too-long'
  | 'declaration-removed';

/** Payload of `webhooks.subscription.deactivated`. */
export class WebhookSubscriptionDeactivatedEvent {
  constructor(
    readonly subscription: WebhookSubscription,
    readonly reason: WebhookDeactivationReason,
    /** Pending attempts the deactivation cancelled: resolved as failed without a try (and without an attempt event). */
    readonly cancelledAttempts = 0,
  ) {}
}

/** Payload of `webhooks.declared.synced`: what a sync of declared subscriptions did. */
export class WebhookDeclarationsSyncedEvent {
  constructor(
    readonly generation: number,
    /** Ids of the subscriptions created, deactivated and kept. */
    readonly added: readonly string[],
    readonly deactivated: readonly string[],
    readonly kept: readonly string[],
    /** Declarations kept since the last sync whose subscription was deleted or deactivated by hand (not recreated). */
    readonly missing: readonly string[],
  ) {}
}

/** Payload of `webhooks.owner-removal.failed`: an owner-removal event removed nothing because of `reason`. */
export class WebhookOwnerRemovalFailedEvent {
  constructor(
    readonly event: string,
    readonly reason: 'no-owner-id',
    readonly payload: unknown,
  ) {}
}

/**
 * Payload of `webhooks.subscription.precondition-failure-limit-reached`. By default the subscription is then
 * deactivated; a listener may decide otherwise, synchronously: `keepActive()` (alert instead of suspending) or
 * `resetCounter()` (keep it active and count from 0).
 */
export class WebhookPreconditionFailureLimitReachedEvent {
  /** What happens next: `deactivate` unless a listener chose otherwise. */
  decision: 'deactivate' | 'keep-active' | 'reset-counter' = 'deactivate';

  constructor(
    readonly subscription: WebhookSubscription,
    readonly failures: number,
  ) {}

  keepActive(): void {
    this.decision = 'keep-active';
  }

  resetCounter(): void {
    this.decision = 'reset-counter';
  }
}
