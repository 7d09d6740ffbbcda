import { Injectable } from '@nestjs/common';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';

/**
 * What a caller wants to do with a subscription (or with one of its attempts, which share its grants):
 * `view` it, `update` it (change, activate, deactivate, rotate its secret, redeliver, send a test), `delete`
 * it, or `manage` it the way only an administrator may (for example acting across owners).
 */
export type WebhookAccessAction = 'view' | 'update' | 'delete' | 'manage';

/** Who is asking: an owner id as used in `ownerId`, and whether it is an administrator. */
export interface WebhookPrincipal {
  id: string;
  admin?: boolean;
}

/**
 * Decides who may see and change subscriptions and their attempts (`nti.webhooks`: the grants given to a subscription's
 * owner when it is created, replaceable through `IWebhookSubscriptionSecuritySetter`). Replace it with a custom
 * provider: `WebhooksModule.forRoot({ …, providers: [{ provide: WebhookAccessPolicy, useClass: Mine }] })`.
 */
export abstract class WebhookAccessPolicy {
  /** `subscription` is null for an attempt whose subscription no longer exists. */
  abstract can(principal: WebhookPrincipal, action: WebhookAccessAction, subscription: WebhookSubscription | null): boolean;

  /**
   * Access to an attempt. By default it has its subscription's grants; `subscription` is null once the attempt is
   * detached from it (the subscription is gone), and then only what `can` allows without one (administrators).
   */
  canAttempt(principal: WebhookPrincipal, action: WebhookAccessAction, attempt: WebhookAttempt, subscription: WebhookSubscription | null): boolean {
    return this.can(principal, action, subscription !== null && subscription.id === attempt.subscriptionId ? subscription : null);
  }
}

/**
 * The default: administrators may do everything; an owner may view, update and delete its own subscriptions
 * and their attempts (`nti.webhooks`: the owner is granted view and delete); nobody else may do anything. A
 * subscription without an owner is visible to administrators only.
 */
@Injectable()
export class OwnerWebhookAccessPolicy extends WebhookAccessPolicy {
  private static readonly OWNER_ACTIONS: ReadonlySet<WebhookAccessAction> = new Set(['view', 'update', 'delete']);

  can(principal: WebhookPrincipal, action: WebhookAccessAction, subscription: WebhookSubscription | null): boolean {
    if (principal.admin) return true;
    if (!subscription || subscription.ownerId === null) return false;
    return subscription.ownerId === principal.id && OwnerWebhookAccessPolicy.OWNER_ACTIONS.has(action);
  }
}
