import { Inject, Injectable } from '@nestjs/common';
import type { WebhookAttempt } from '../attempts/webhook-attempt.js';
import { WebhookClock } from '../clock.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import type { WebhookSubscription } from '../subscriptions/webhook-subscription.js';
import { SubscriptionStatusMessages, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../webhooks.options.js';

/**
 * The rules that keep a subscription's history bounded and switch off endpoints that keep failing:
 * - history (seed): after an attempt resolves, the oldest resolved attempts are deleted until at most
 *   `limits.attemptLimit` remain; pending ones are never deleted;
 * - all failed (seed): when at least `attemptLimit` attempts are stored and every one failed, deactivate with
 *   "Delivery suspended due to too many delivery failures.";
 * - failing too long: when every try has failed for `limits.disableAfterFailingForMs`, deactivate;
 * - gone: a 410 answer deactivates at once (Standard Webhooks).
 */
@Injectable()
export class SubscriptionHealth {
  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly clock: WebhookClock,
  ) {}

  /** After a try: track how long deliveries have been failing, and apply the time rule. */
  async afterTry(subscription: WebhookSubscription, succeeded: boolean): Promise<void> {
    if (succeeded) {
      if (subscription.failingSince !== null) await this.subscriptions.setFailingSince(subscription.id, null);
      return;
    }
    const now = this.clock.now();
    const current = (await this.subscriptions.get(subscription.id)) ?? subscription;
    if (current.failingSince === null) {
      await this.subscriptions.setFailingSince(subscription.id, now);
      return;
    }
    const window = this.options.limits.disableAfterFailingForMs;
    if (window > 0 && now.getTime() - current.failingSince.getTime() >= window) {
      await this.subscriptions.deactivate(subscription.id, 'failing-too-long', SubscriptionStatusMessages.FailingTooLong);
    }
  }

  /** After an attempt resolved: prune the history, then apply the all-failed rule. */
  async afterResolved(attempt: WebhookAttempt): Promise<void> {
    const limit = this.options.limits.attemptLimit;
    let counts = await this.store.countAttempts(attempt.subscriptionId);
    if (counts.total > limit) {
      await this.store.pruneAttempts(attempt.subscriptionId, limit);
      counts = await this.store.countAttempts(attempt.subscriptionId);
    }
    if (attempt.status === 'failed' && counts.total >= limit && counts.failed === counts.total) {
      await this.subscriptions.deactivate(attempt.subscriptionId, 'delivery-failures', SubscriptionStatusMessages.TooManyDeliveryFailures);
    }
  }

  /** A 410 Gone answer: the receiver says the endpoint no longer exists. */
  async gone(subscription: WebhookSubscription): Promise<void> {
    await this.subscriptions.deactivate(subscription.id, 'gone', SubscriptionStatusMessages.EndpointGone);
  }
}
