import { Injectable } from '@nestjs/common';
import type { WebhookSubscription } from '../core/webhook-subscription.js';

/**
 * The answer of a `WebhookAuthorizer`:
 * - `allowed`: the owner may see the payload; an attempt is created;
 * - `denied`: the owner may not; nothing happens (a denial is not an error);
 * - `precondition-failed`: the check could not be carried out (unknown owner, unknown permission). It is
 *   counted, and at `limits.preconditionFailureLimit` the subscription is deactivated.
 */
export enum WebhookAuthorization {
  Allowed = 'allowed',
  Denied = 'denied',
  PreconditionFailed = 'precondition-failed',
}

/** What a `WebhookAuthorizer` is asked about: one subscription and one event. */
export interface WebhookAuthorizationRequest {
  subscription: WebhookSubscription;
  eventName: string;
  /** The emitted object, never the serialized payload (`nti.webhooks`: security applies to the event's object). */
  payload: unknown;
  /** The permission to check (the subscription's; `authorization.defaultPermission` is applied at creation). */
  permission: string | null;
  ownerId: string | null;
  /** Who published the event (`authorization.actingPrincipal`), or `null` outside a request. */
  actingPrincipal: string | null;
  /** The scope the payload lives in (`WebhookScopeResolver`), or `null`. */
  payloadScope: string | null;
  /** The scope current when the event was published, or `null`. */
  currentScope: string | null;
}

/**
 * Decides, when an event is published, whether a subscription's owner may receive it. Subscriptions with
 * neither owner nor permission are never asked about. Provide your own with
 * `WebhooksModule.forRoot({ … }, )` extras `authorizer: MyAuthorizer`, or a custom provider for this class.
 */
export abstract class WebhookAuthorizer {
  abstract authorize(request: WebhookAuthorizationRequest): WebhookAuthorization | Promise<WebhookAuthorization>;
}

/**
 * The default: every owner may receive every event it subscribed to. Applications whose subscriptions belong
 * to tenants must provide an authorizer that checks the payload belongs to the owner.
 */
@Injectable()
export class AllowAllWebhookAuthorizer extends WebhookAuthorizer {
  authorize(): WebhookAuthorization {
    return WebhookAuthorization.Allowed;
  }
}
