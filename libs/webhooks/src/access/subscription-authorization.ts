import { Inject, Injectable, Logger } from '@nestjs/common';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import type { EventScopes } from '../core/webhook-shipment.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WebhookAuthorization, WebhookAuthorizer } from './webhook-authorizer.js';

/** Asks the application's `WebhookAuthorizer` about a subscription, with the library's rules around it. */
@Injectable()
export class SubscriptionAuthorization {
  private readonly logger = new Logger('WebhookAuthorization');

  constructor(
    private readonly authorizer: WebhookAuthorizer,
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
  ) {}

  /**
   * Whether the subscription's owner may receive the payload. Subscriptions with neither owner nor permission are
   * not asked about. The authorizer is called before the first `await`, so in the caller's async context (the
   * dispatcher calls this inside `emit()`, where the acting user's request context is). Never rejects: an
   * authorizer that throws, or answers something else, gives `precondition-failed`.
   */
  async authorize(subscription: WebhookSubscription, eventName: string, payload: unknown, scopes?: EventScopes): Promise<WebhookAuthorization> {
    if (subscription.ownerId === null && subscription.permission === null) return WebhookAuthorization.Allowed;
    try {
      const decision = await this.authorizer.authorize({
        subscription,
        eventName,
        payload,
        ownerId: subscription.ownerId,
        permission: subscription.permission,
        actingPrincipal: this.actingPrincipal(),
        payloadScope: scopes?.payload ?? null,
        currentScope: scopes?.current ?? null,
      });
      return Object.values(WebhookAuthorization).includes(decision) ? decision : WebhookAuthorization.PreconditionFailed;
    } catch (error) {
      this.logger.warn(`Authorizer failed for subscription ${subscription.id}: ${(error as Error)?.message ?? String(error)}`);
      return WebhookAuthorization.PreconditionFailed;
    }
  }

  /** The acting principal in the caller's async context; a throw counts as none. */
  private actingPrincipal(): string | null {
    try {
      const principal = this.options.authorization.actingPrincipal();
      return typeof principal === 'string' && principal.length > 0 ? principal : null;
    } catch (error) {
      this.logger.warn(`authorization.actingPrincipal failed: ${(error as Error)?.message ?? String(error)}`);
      return null;
    }
  }
}
