import { Injectable } from '@nestjs/common';
import { WebhookAuthorization, type WebhookAuthorizationRequest, WebhookAuthorizer } from 'nest-webhooks';
import { Order } from './order.entity.js';

/**
 * `nti.webhooks`' owner/permission check made concrete. A subscription in a tenant scope receives the orders of its
 * scope and the scopes below it (the library's scope matching already chose them); a global one receives an order
 * only when its owner placed that order. Events about anything else are not for owned subscriptions.
 */
@Injectable()
export class OrderOwnerAuthorizer extends WebhookAuthorizer {
  authorize({ subscription, payload }: WebhookAuthorizationRequest): WebhookAuthorization {
    if (subscription.ownerId === null) return WebhookAuthorization.Denied;
    if (payload instanceof Order) {
      if (subscription.scope !== null) return WebhookAuthorization.Allowed;
      return payload.ownerId === subscription.ownerId ? WebhookAuthorization.Allowed : WebhookAuthorization.Denied;
    }
    return WebhookAuthorization.Denied;
  }
}
