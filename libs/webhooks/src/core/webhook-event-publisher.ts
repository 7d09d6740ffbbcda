import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';

/** A listener of every library event, inside this process. */
export type WebhookEventObserver = (name: string, event: object) => void;

/**
 * Emits the library's own `webhooks.*` events on the application's EventEmitter2, and to the library's own
 * observers (metrics, tracing), which hear them whether or not the application set up an EventEmitter. A
 * throwing listener is logged and never interrupts the delivery bookkeeping that emitted the event.
 */
@Injectable()
export class WebhookEventPublisher {
  private readonly logger = new Logger('WebhookEvents');
  private readonly observers = new Set<WebhookEventObserver>();

  constructor(@Optional() private readonly emitter?: EventEmitter2) {}

  /** Adds an in-process observer of every event; returns what removes it. */
  observe(observer: WebhookEventObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  emit(name: string, event: object): void {
    for (const observer of this.observers) this.call(name, () => observer(name, event));
    if (this.emitter) this.call(name, () => this.emitter!.emit(name, event));
  }

  private call(name: string, listener: () => unknown): void {
    try {
      listener();
    } catch (error) {
      this.logger.error(`A listener of ${name} threw: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
}
