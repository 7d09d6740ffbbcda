import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { describeError } from '../core/describe-error.js';
import { normalizeEventName } from '../core/event-pattern.js';
import { OwnerRemoval } from './owner-removal.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

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
      if (this.ownerRemoval.handles(name)) this.ownerRemoval.onRemoved(payload);
      this.dispatcher.onEmitted(name, payload);
    } catch (error) {
      this.logger.error(`Handling ${name} failed: ${describeError(error)}`);
    }
  };

  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly ownerRemoval: OwnerRemoval,
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
}
