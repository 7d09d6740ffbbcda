import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import { WEBHOOKS_OPTIONS } from '../../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import { UndiciSender } from './undici-sender.js';
import { WebhookTransport, WebhookTransportError, type WebhookTransportLimits, type WebhookTransportRequest, type WebhookTransportResponse } from './webhook-transport.js';

/**
 * The undici 7 transport (the default): requests are sent on the application's thread by an `UndiciSender`
 * whose connections go through the destination guard (`lookup` for names, `checkAddress` for IP literals).
 */
@Injectable()
export class UndiciWebhookTransport extends WebhookTransport implements OnApplicationShutdown {
  private readonly sender: UndiciSender;
  private readonly watchedSignals = new WeakSet<AbortSignal>();

  constructor(validator: WebhookDestinationValidator, @Inject(WEBHOOKS_OPTIONS) options: ResolvedWebhooksOptions) {
    super();
    const { delivery, destinations } = options;
    this.sender = new UndiciSender({
      connectTimeoutMs: delivery.connectTimeoutMs,
      connections: delivery.perEndpointConcurrency,
      timeoutMs: delivery.timeoutMs,
      ca: destinations.tls?.ca,
      lookup: validator.lookup,
      checkAddress: (address) => validator.checkAddress(address, address),
    });
  }

  send(request: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse> {
    const { signal } = limits;
    if (signal) {
      if (signal.aborted) return Promise.reject(new WebhookTransportError('aborted', 'the request was aborted (shutdown)', 0));
      if (!this.watchedSignals.has(signal)) {
        // One listener per shutdown signal, not one per request; it aborts only that signal's requests.
        this.watchedSignals.add(signal);
        signal.addEventListener('abort', () => this.sender.abortGroup(signal), { once: true });
      }
    }
    return this.sender.send(request, limits, signal);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
