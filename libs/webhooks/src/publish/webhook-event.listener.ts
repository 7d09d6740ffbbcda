import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { WebhookShipments } from './webhook-shipments.js';
import { describeError } from '../core/describe-error.js';
import { normalizeEventName } from '../core/event-pattern.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

/** The default way to read an owner id from an owner-removal event: the payload itself, or its `id`. */
function defaultOwnerId(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  const id = (payload as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/**
 * The single catch-all listener on the application's EventEmitter2 (`onAny`, which sees the event name).
 * It runs synchronously inside `emit()`, so it only does the cheap registry lookup and hands everything else
 * to tracked asynchronous work; it never throws into the emitter.
 */
@Injectable()
export class WebhookEventListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('WebhookEventListener');
  private readonly listener = (event: unknown, payload: unknown): void => {
    const name = normalizeEventName(event);
    if (name === null) return;
    try {
      if (name === this.options.ownerRemoval.event) this.removeOwner(payload);
      this.dispatcher.onEmitted(name, payload);
    } catch (error) {
      this.logger.error(`Handling ${name} failed: ${describeError(error)}`);
    }
  };

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly dispatcher: WebhookDispatcher,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly shipments: WebhookShipments,
    @Optional() private readonly emitter?: EventEmitter2,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.emitter) {
      this.logger.warn('EventEmitter2 is not available (import EventEmitterModule.forRoot()); only WebhookPublisher.publish() delivers webhooks');
      return;
    }
    this.emitter.onAny(this.listener);
  }

  onModuleDestroy(): void {
    this.emitter?.offAny(this.listener);
  }

  private removeOwner(payload: unknown): void {
    const ownerId = (this.options.ownerRemoval.ownerId ?? defaultOwnerId)(payload);
    if (typeof ownerId !== 'string' || ownerId.length === 0) {
      this.logger.warn(`${this.options.ownerRemoval.event} carried no owner id; no subscriptions removed`);
      return;
    }
    this.shipments.track(this.subscriptions.deleteSubscriptionsForOwner(ownerId));
  }
}
