import { Injectable } from '@nestjs/common';
import { InvalidWebhookSubscriptionError } from '../core/subscription.errors.js';
import type { CreateWebhookSubscriptionInput } from '../core/subscription-input.js';
import type { WebhookPayloadTypeRef } from '../core/webhook-subscription.js';
import type { WebhookScopes } from '../matching/webhook-scopes.js';
import type { WebhookPayloadTypes } from '../payloads/webhook-payload-types.js';

/**
 * Says which payload type a subscription to a resource is for (`nti.webhooks`' resource discriminator): for
 * example a common parent class, so the subscription matches every kind of employee. `undefined` falls back to the
 * resource's own class. The default answers `undefined`; provide your own class for this token.
 */
export abstract class WebhookResourceDiscriminator {
  abstract payloadTypeOf(resource: object): WebhookPayloadTypeRef | undefined;
}

@Injectable()
export class OwnClassDiscriminator extends WebhookResourceDiscriminator {
  payloadTypeOf(): undefined {
    return undefined;
  }
}

/** Input for a subscription to `resource`: in the resource's scope, for its payload type, to every event by default. */
export function resourceSubscriptionInput(
  resource: object,
  input: Omit<CreateWebhookSubscriptionInput, 'scope'>,
  parts: { scopes: WebhookScopes; payloadTypes: WebhookPayloadTypes; discriminator: WebhookResourceDiscriminator },
): CreateWebhookSubscriptionInput {
  if (resource === null || typeof resource !== 'object') throw new InvalidWebhookSubscriptionError('resource', 'must be an object');
  const own = (resource as { constructor?: Function }).constructor;
  const payloadType = input.payloadType ?? parts.discriminator.payloadTypeOf(resource) ?? (own && parts.payloadTypes.namesOf(own)[0]);
  if (payloadType === undefined || payloadType === null) {
    throw new InvalidWebhookSubscriptionError('payloadType', `class ${own?.name ?? 'of the resource'} has no registered name`, 'decorate it with @WebhookPayload(name)');
  }
  return { events: ['**'], ...input, payloadType, scope: parts.scopes.of(resource) };
}
