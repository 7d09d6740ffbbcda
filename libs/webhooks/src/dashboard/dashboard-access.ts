import { Injectable, NotFoundException } from '@nestjs/common';
import { type WebhookAccessAction, WebhookAccessPolicy, type WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WebhookDeliveryManager } from '../operations/webhook-delivery.manager.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';

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
  async subscriptions(principal: WebhookPrincipal): Promise<WebhookSubscription[]> {
    // The policy decides, not the owner id alone: a custom policy may grant more (or less) than ownership.
    return (await this.subscriptionManager.list()).filter((s) => this.policy.can(principal, 'view', s));
  }

  async subscription(principal: WebhookPrincipal, id: string, action: WebhookAccessAction): Promise<WebhookSubscription> {
    const subscription = await this.subscriptionManager.get(id);
    if (!subscription || !this.policy.can(principal, action, subscription)) throw new NotFoundException();
    return subscription;
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
