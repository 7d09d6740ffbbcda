import { Injectable, NotFoundException } from '@nestjs/common';
import { WebhookAccessPolicy, type WebhookAttempt, WebhookDeliveryManager, type WebhookSubscription, WebhookSubscriptionManager } from 'nest-webhooks';
import type { SubscriptionPosition, WebhookAccessAction } from 'nest-webhooks/extensions';

/**
 * Looks up subscriptions and attempts on behalf of an owner. Anything the owner may not act on answers
 * exactly like something that does not exist (404), so ids of other owners reveal nothing.
 */
@Injectable()
export class OwnedSubscriptions {
  constructor(
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly delivery: WebhookDeliveryManager,
    private readonly access: WebhookAccessPolicy,
  ) {}

  async subscription(ownerId: string, id: string, action: WebhookAccessAction): Promise<WebhookSubscription> {
    const subscription = await this.subscriptions.get(id);
    if (!subscription || !this.access.can({ id: ownerId }, action, subscription)) throw new NotFoundException();
    return subscription;
  }

  async attempt(ownerId: string, id: string, action: WebhookAccessAction): Promise<WebhookAttempt> {
    const attempt = await this.delivery.getAttempt(id);
    const subscription = attempt ? await this.subscriptions.get(attempt.subscriptionId) : null;
    if (!attempt || !this.access.can({ id: ownerId }, action, subscription)) throw new NotFoundException();
    return attempt;
  }

  /** The owner's stored subscriptions, oldest first, from `page.after` on. */
  async list(ownerId: string, page: { limit: number; after?: SubscriptionPosition }): Promise<WebhookSubscription[]> {
    const owned = await this.subscriptions.list({ ownerId, source: 'persistent', ...page });
    return owned.filter((s) => this.access.can({ id: ownerId }, 'view', s));
  }
}
