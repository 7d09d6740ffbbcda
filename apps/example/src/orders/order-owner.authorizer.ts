import { Injectable } from '@nestjs/common';
import { WebhookAuthorization, type WebhookAuthorizationRequest, WebhookAuthorizer } from 'nest-webhooks';
import { Order } from './order.entity.js';

/**
 * `nti.webhooks`' owner/permission check made concrete: a subscription receives an event about an order only when
 * its owner placed that order. Events about anything else are not for owned subscriptions.
 */
@Injectable()
export class OrderOwnerAuthorizer extends WebhookAuthorizer {
  authorize({ subscription, payload }: WebhookAuthorizationRequest): WebhookAuthorization {
    if (subscription.ownerId === null) return WebhookAuthorization.Denied;
    if (payload instanceof Order) {
      return payload.ownerId === subscription.ownerId ? WebhookAuthorization.Allowed : WebhookAuthorization.Denied;
    }
    return WebhookAuthorization.Denied;
  }
}
