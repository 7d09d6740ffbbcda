import type { Logger } from '@nestjs/common';
import type { StaticWebhookSubscription } from '../core/subscription-input.js';
import { WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { DeliveryCredentials } from './delivery-credentials.js';
import type { SubscriptionBuilder } from './subscription-builder.js';
import type { SubscriptionRegistry } from './subscription-registry.js';

const STATIC_ID_BASE = 'Subscription';

/**
 * Registers the subscriptions of `forRoot({ subscriptions })`: checked like stored ones (but for the destination,
 * checked on every try), kept in this process's memory, with their secrets in the credential cache. Ids default to
 * `nti.webhooks`' naming: `Subscription`, then `Subscription-2`, `Subscription-3`, …
 */
export async function registerStaticSubscriptions(
  definitions: readonly StaticWebhookSubscription[],
  parts: { builder: SubscriptionBuilder; registry: SubscriptionRegistry; credentials: DeliveryCredentials; logger: Logger },
): Promise<void> {
  const { builder, registry, credentials, logger } = parts;
  let next = 1;
  const nextId = (): string => {
    for (; ; next++) {
      const id = next === 1 ? STATIC_ID_BASE : `${STATIC_ID_BASE}-${next}`;
      if (!registry.static(id)) return id;
    }
  };
  for (const definition of definitions) {
    const id = definition.id ?? nextId();
    if (typeof id !== 'string' || id.length === 0 || registry.static(id)) {
      throw new WebhookSubscriptionOperationError(`Static subscription id ${JSON.stringify(id)} is empty or used twice`);
    }
    if (definition.secret === undefined) {
      logger.warn(`Static subscription "${id}" has no secret; a random one was generated and receivers cannot know it. Set "secret".`);
    }
    const { subscription, secret, headers } = await builder.build(definition, 'static', id);
    credentials.setStatic(id, { secrets: [secret], headers });
    registry.setStatic(subscription);
  }
}
