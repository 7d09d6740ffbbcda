import { Inject, Injectable, Logger } from '@nestjs/common';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
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
 * The default, when the application provides none. The library cannot tell whether an owner may see a payload, so
 * a subscription with an owner or a permission receives nothing (`denied`, not counted), and the first such
 * decision is logged with what to do; `authorization.trustOwners: true` lets every owner receive every event it
 * subscribed to instead (one tenant, or development). Subscriptions with neither are never asked about.
 */
@Injectable()
export class DefaultWebhookAuthorizer extends WebhookAuthorizer {
  private readonly logger = new Logger('WebhookAuthorizer');
  private warned = false;

  constructor(@Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions) {
    super();
  }

  authorize(request: WebhookAuthorizationRequest): WebhookAuthorization {
    if (this.options.authorization.trustOwners) return WebhookAuthorization.Allowed;
    if (!this.warned) {
      this.warned = true;
      this.logger.warn(
        `Subscription ${request.subscription.id} has an owner, but the application provides no WebhookAuthorizer: subscriptions with an owner receive no events. ` +
          'Provide one (WebhooksModule.forRoot extras `authorizer`), or set authorization.trustOwners to let owners receive every event they subscribe to.',
      );
    }
    return WebhookAuthorization.Denied;
  }
}
