import { Injectable } from '@nestjs/common';
import { SubscriptionAuthorization } from '../access/subscription-authorization.js';
import { WebhookAuthorization } from '../access/webhook-authorizer.js';
import type { EventScopes } from '../core/webhook-shipment.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { SubscriptionIndex } from '../matching/subscription-index.js';
import { WebhookScopes } from '../matching/webhook-scopes.js';
import { WebhookPayloadTypes } from '../payloads/webhook-payload-types.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { subscriptionSnapshot } from './subscription-snapshot.js';

/** Which subscriptions an event in the caller's context goes to, and whether one would receive it. */
@Injectable()
export class SubscriptionApplicability {
  constructor(
    private readonly registry: SubscriptionRegistry,
    private readonly authorization: SubscriptionAuthorization,
    private readonly scopes: WebhookScopes,
    private readonly payloadTypes: WebhookPayloadTypes,
  ) {}

  /** Active subscriptions whose events, payload type and scope match, as copies. */
  active(eventName: string, payload: unknown, scopes: EventScopes = this.scopes.ofEvent(payload)): WebhookSubscription[] {
    return this.registry.match(eventName, payload, scopes).map(subscriptionSnapshot);
  }

  /** `active` ones the authorizer allows, in order; `countFailure` gets those it could not decide about. */
  async toDeliver(eventName: string, payload: unknown, countFailure: (subscription: WebhookSubscription) => Promise<void>): Promise<WebhookSubscription[]> {
    const scopes = this.scopes.ofEvent(payload);
    const result: WebhookSubscription[] = [];
    for (const subscription of this.active(eventName, payload, scopes)) {
      const decision = await this.authorization.authorize(subscription, eventName, payload, scopes);
      if (decision === WebhookAuthorization.Allowed) result.push(subscription);
      else if (decision === WebhookAuthorization.PreconditionFailed) await countFailure(subscription);
    }
    return result;
  }

  /** Whether the subscription's events and type match and its owner may see the payload; ignores `active` and scope. */
  async applies(subscription: WebhookSubscription, eventName: string, payload: unknown): Promise<boolean> {
    const probe = new SubscriptionIndex(this.payloadTypes);
    probe.add(subscription);
    if (probe.match(eventName, payload).length === 0) return false;
    return (await this.authorization.authorize(subscription, eventName, payload, this.scopes.ofEvent(payload))) === WebhookAuthorization.Allowed;
  }
}
