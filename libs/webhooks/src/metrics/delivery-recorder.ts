import type { WebhookAttemptResolvedEvent, WebhookAttemptTriedEvent, WebhookSubscriptionDeactivatedEvent, WebhookSubscriptionEvent } from '../core/webhook-events.js';
import { WebhookEvents } from '../core/webhooks.constants.js';
import type { WebhookMetricSet } from './webhook-metric-set.js';

/** `2xx` … `5xx` for an HTTP answer, `none` without one. */
export function statusClass(statusCode: number | null): string {
  if (statusCode === null) return 'none';
  return statusCode >= 100 && statusCode < 600 ? `${Math.floor(statusCode / 100)}xx` : 'other';
}

/** Turns the library's events (`WebhookEventPublisher.observe`) into metric updates. */
export class DeliveryRecorder {
  constructor(
    private readonly metrics: WebhookMetricSet,
    private readonly eventLabel: boolean,
  ) {}

  record(name: string, event: object): void {
    switch (name) {
      case WebhookEvents.AttemptTried:
        return this.tried(event as WebhookAttemptTriedEvent);
      case WebhookEvents.AttemptSucceeded:
      case WebhookEvents.AttemptFailed:
        return this.resolved(event as WebhookAttemptResolvedEvent);
      case WebhookEvents.SubscriptionDeactivated: {
        const { reason, cancelledAttempts } = event as WebhookSubscriptionDeactivatedEvent;
        this.metrics.deactivations.inc({ reason });
        if (cancelledAttempts > 0) this.metrics.cancelled.inc({ reason }, cancelledAttempts);
        return;
      }
      case WebhookEvents.SubscriptionDeleted: {
        const { cancelledAttempts } = event as WebhookSubscriptionEvent;
        if (cancelledAttempts > 0) this.metrics.cancelled.inc({ reason: 'deleted' }, cancelledAttempts);
      }
    }
  }

  private tried({ attempt, tried, outcome, requestSent }: WebhookAttemptTriedEvent): void {
    const status_class = statusClass(tried.statusCode);
    const eventName = this.eventOf(attempt.eventName);
    this.metrics.tries.inc({ outcome, status_class, error_code: tried.errorCode ?? 'none', ...eventName });
    // A try that ended before any request (a cancelled attempt, no signing secret, a refused address) has no duration worth a histogram.
    if (requestSent) this.metrics.tryDuration.observe({ status_class, ...eventName }, Math.max(0, tried.elapsedMs) / 1000);
  }

  private resolved({ attempt, succeeded }: WebhookAttemptResolvedEvent): void {
    const eventName = this.eventOf(attempt.eventName);
    this.metrics.resolved.inc({ status: succeeded ? 'successful' : 'failed', ...eventName });
    if (succeeded) this.metrics.deliveryLatency.observe(eventName, Math.max(0, attempt.updatedAt.getTime() - attempt.createdAt.getTime()) / 1000);
  }

  private eventOf(eventName: string): { event?: string } {
    return this.eventLabel ? { event: eventName } : {};
  }
}
