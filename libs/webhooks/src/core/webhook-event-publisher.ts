import { Injectable, Logger, Optional } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';

/**
 * Emits the library's own `webhooks.*` events on the application's EventEmitter2. A throwing listener is
 * logged and never interrupts the delivery bookkeeping that emitted the event.
 */
@Injectable()
export class WebhookEventPublisher {
  private readonly logger = new Logger('WebhookEvents');

  constructor(@Optional() private readonly emitter?: EventEmitter2) {}

  emit(name: string, event: object): void {
    if (!this.emitter) return;
    try {
      this.emitter.emit(name, event);
    } catch (error) {
      this.logger.error(`A listener of ${name} threw: ${(error as Error)?.stack ?? String(error)}`);
    }
  }
}
