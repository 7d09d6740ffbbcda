import type { Span } from '@opentelemetry/api';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { PublishedWebhookEvent, WebhookDelivery, WebhookShipment } from '../core/webhook-shipment.js';
import type { OpenTelemetryApi } from './opentelemetry.js';
import type { PublishLinks } from './publish-links.js';
import { MAX_LISTED_ATTEMPT_IDS, SpanAttributes } from './span-attributes.js';
import type { TracingFaults } from './tracing-faults.js';
import type { PublishSpans } from './webhook-spans.js';

/**
 * The spans of the events one write publishes (`webhooks.publish <event>`, kind PRODUCER), one per event: started
 * before matching, ended once its attempts are written (or the write failed).
 */
export class WebhookPublishSpans implements PublishSpans {
  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly spans: ReadonlyMap<PublishedWebhookEvent, Span>,
    /** Where the pending attempts' publish spans are kept for their first try, or `null` when this process sends none. */
    private readonly links: PublishLinks | null,
    private readonly faults: TracingFaults,
  ) {}

  written(deliveries: readonly WebhookDelivery[], created: readonly WebhookAttempt[], shipment: WebhookShipment): void {
    this.faults.guard('publish span end', () => this.endWritten(deliveries, created, shipment), undefined);
  }

  failed(error: unknown): void {
    this.faults.guard('publish span end', () => this.endFailed(error), undefined);
  }

  private endWritten(deliveries: readonly WebhookDelivery[], created: readonly WebhookAttempt[], shipment: WebhookShipment): void {
    const written = new Set<string>();
    for (const attempt of shipment.pending) written.add(attempt.id);
    const pending = this.links ? new Set(written) : null;
    for (const attempt of shipment.failed) written.add(attempt.id);
    const ids = new Map<PublishedWebhookEvent, string[]>();
    deliveries.forEach(({ event }, i) => {
      const id = created[i]?.id;
      if (id === undefined || !written.has(id)) return;
      let list = ids.get(event);
      if (!list) ids.set(event, (list = []));
      list.push(id);
      const span = this.spans.get(event);
      if (pending?.has(id) && span) this.links!.remember(id, span.spanContext());
    });
    for (const [event, span] of this.spans) {
      if (span.isRecording()) {
        const list = ids.get(event) ?? [];
        span.setAttribute(SpanAttributes.AttemptCount, list.length);
        if (list.length > 0 && list.length <= MAX_LISTED_ATTEMPT_IDS) span.setAttribute(SpanAttributes.AttemptIds, list);
      }
      span.end();
    }
  }

  private endFailed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    for (const span of this.spans.values()) {
      if (span.isRecording()) {
        span.recordException(error instanceof Error ? error : message);
        span.setStatus({ code: this.api.SpanStatusCode.ERROR, message });
      }
      span.end();
    }
  }
}
