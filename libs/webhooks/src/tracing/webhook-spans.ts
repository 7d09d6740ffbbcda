import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { WebhookDelivery, WebhookShipment } from '../core/webhook-shipment.js';

// The library's own view of its spans: no OpenTelemetry type shows in a signature, so applications compile without
// `@opentelemetry/api` installed.

/** The spans of the events one write publishes (`webhooks.publish <event>`). None of its methods throws. */
export interface PublishSpans {
  /**
   * Ends the spans after the write: `created` are the attempts built for `deliveries`, in the same order, and the
   * shipment holds those actually written (an idempotency hit writes none).
   */
  written(deliveries: readonly WebhookDelivery[], created: readonly WebhookAttempt[], shipment: WebhookShipment): void;
  /** Ends the spans with the error that stopped the write. */
  failed(error: unknown): void;
}

/** The span of one try (`webhooks.deliver <event>`). None of its methods throws. */
export interface TrySpan {
  /**
   * Runs the try with its span active, in a context of its own (not the publishing request's, whose span has ended
   * and whose baggage is not the receiver's business): what instrumentations record during the try joins its trace.
   */
  run<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Runs the HTTP request. Without propagation, with tracing suppressed, so an instrumented HTTP client (undici,
   * http) neither records a span nor adds trace headers of its own.
   */
  request<T>(send: () => Promise<T>): Promise<T>;
  /** Notes the signed request about to be sent; with propagation on, returns it with the trace context headers added. */
  sending<R extends { method: string; url: string; headers: Record<string, string> }>(request: R): R;
  /**
   * Ends the span with the try's outcome, read from the attempt as stored after it (`null`: the try was abandoned,
   * at shutdown, or the attempt was resolved meanwhile: `webhooks.outcome` is `abandoned`), or with the error the
   * bookkeeping threw.
   */
  end(updated: WebhookAttempt | null, error?: unknown): void;
}

/** The context an event was published in, kept until its publish span starts (opaque outside this folder). */
export type TraceParent = object;
