import type { ModuleRef } from '@nestjs/core';
import { WebhookClock } from '../core/clock.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { WebhookDeliveryManager } from './webhook-delivery.manager.js';

/** The services of an application's WebhooksModule that its metrics and health checks read. */
export interface WebhookServices {
  options: ResolvedWebhooksOptions;
  clock: WebhookClock;
  events: WebhookEventPublisher;
  store: WebhookStore;
  subscriptions: WebhookSubscriptionManager;
  delivery: WebhookDeliveryManager;
}

/**
 * Finds the WebhooksModule's services anywhere in the application (`strict: false`), so a module imported beside
 * it reaches them even when WebhooksModule is not global. Throws a clear error when there is none.
 */
export function findWebhookServices(moduleRef: ModuleRef, by: string): WebhookServices {
  // `Function`: abstract classes (WebhookStore) are tokens too.
  const find = <T>(token: Function | string | symbol): T => {
    try {
      return moduleRef.get<T>(token, { strict: false });
    } catch {
      throw new Error(`${by} needs WebhooksModule.forRoot(...) in the same application (it found no ${typeof token === 'function' ? token.name : String(token)})`);
    }
  };
  return {
    options: find(WEBHOOKS_OPTIONS),
    clock: find(WebhookClock),
    events: find(WebhookEventPublisher),
    store: find(WebhookStore),
    subscriptions: find(WebhookSubscriptionManager),
    delivery: find(WebhookDeliveryManager),
  };
}
