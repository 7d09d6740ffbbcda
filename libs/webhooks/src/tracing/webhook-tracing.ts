import type { Context, SpanContext, TracerProvider } from '@opentelemetry/api';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { PublishedWebhookEvent } from '../core/webhook-shipment.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WEBHOOKS_VERSION } from '../core/version.js';
import { loadOpenTelemetryApi, type OpenTelemetryApi } from './opentelemetry.js';
import { PublishLinks } from './publish-links.js';
import { SpanAttributes, TRACER_NAME } from './span-attributes.js';
import { TracingFaults } from './tracing-faults.js';
import { WebhookPublishSpans } from './webhook-publish-spans.js';
import type { PublishSpans, TraceParent, TrySpan } from './webhook-spans.js';
import { WebhookTrySpan } from './webhook-try-span.js';

/**
 * The library's OpenTelemetry spans, through `@opentelemetry/api` only: nothing when the application has not
 * installed it, and next to nothing while no SDK is registered (the API's no-op tracer is not even called).
 * Spans: one per published event (`webhooks.publish <event>`) and one per try (`webhooks.deliver <event>`), the
 * first try in this process linked to its publish span. A tracing call that throws is logged once and the work goes
 * on untraced (`TracingFaults`).
 */
export class WebhookTracing {
  private readonly api: OpenTelemetryApi | null;
  private readonly propagate: boolean;
  private readonly links: PublishLinks | null;
  /** What `trace.getTracerProvider()` delegates to while no SDK is registered (the API's no-op provider). */
  private readonly noop: TracerProvider | null;
  private readonly faults = new TracingFaults();

  private constructor(api: OpenTelemetryApi | null, options: Pick<ResolvedWebhooksOptions, 'tracing' | 'delivery'>) {
    this.api = api;
    this.propagate = options.tracing.propagate;
    // A process that sends nothing never takes a publish span back.
    this.links = options.delivery.worker ? new PublishLinks() : null;
    this.noop = api ? new api.ProxyTracerProvider().getDelegate() : null;
  }

  /** Loads `@opentelemetry/api` if the application has it installed (the module's provider factory). */
  static async create(options: Pick<ResolvedWebhooksOptions, 'tracing' | 'delivery'>): Promise<WebhookTracing> {
    return new WebhookTracing(await loadOpenTelemetryApi(), options);
  }

  /** An SDK is registered, so spans may record. Without one this is a few property reads and a comparison. */
  get active(): boolean {
    if (!this.api) return false;
    const provider = this.api.trace.getTracerProvider();
    return !(provider instanceof this.api.ProxyTracerProvider) || provider.getDelegate() !== this.noop;
  }

  /** The active context (in `emit()`, say), to parent the event's publish span; `undefined` when nothing traces. */
  captureParent(): TraceParent | undefined {
    return this.faults.guard('context', () => (this.active ? this.api!.context.active() : undefined), undefined);
  }

  /**
   * Starts a span per event, each a child of the context it was published in (or of the active one); `null` when
   * nothing traces.
   */
  startPublish(events: ReadonlyArray<{ event: PublishedWebhookEvent; traceParent?: TraceParent }>): PublishSpans | null {
    return this.faults.guard('publish span start', () => this.publishSpans(events), null);
  }

  /**
   * Starts the span of one try: a root span, linked to the attempt's publish span when this process wrote the
   * attempt and this is its first try here (the try runs later, from the queue: not inside the publish span).
   * `null` when nothing traces.
   */
  startTry(attempt: WebhookAttempt): TrySpan | null {
    const publish = this.links?.take(attempt.id);
    return this.faults.guard('try span start', () => this.trySpan(attempt, publish), null);
  }

  private publishSpans(events: ReadonlyArray<{ event: PublishedWebhookEvent; traceParent?: TraceParent }>): PublishSpans | null {
    if (!this.active) return null;
    const api = this.api!;
    const tracer = api.trace.getTracer(TRACER_NAME, WEBHOOKS_VERSION);
    const spans = new Map(
      events.map(({ event, traceParent }) => {
        const parent = (traceParent as Context | undefined) ?? api.context.active();
        const span = tracer.startSpan(`webhooks.publish ${event.name}`, { kind: api.SpanKind.PRODUCER }, parent);
        if (span.isRecording()) span.setAttribute(SpanAttributes.Event, event.name);
        return [event, span] as const;
      }),
    );
    return new WebhookPublishSpans(api, spans, this.links, this.faults);
  }

  private trySpan(attempt: WebhookAttempt, publish: SpanContext | undefined): TrySpan | null {
    if (!this.active) return null;
    const api = this.api!;
    const span = api.trace
      .getTracer(TRACER_NAME, WEBHOOKS_VERSION)
      .startSpan(`webhooks.deliver ${attempt.eventName}`, { kind: api.SpanKind.CLIENT, root: true, links: publish ? [{ context: publish }] : undefined });
    if (span.isRecording()) {
      span.setAttributes({
        [SpanAttributes.AttemptId]: attempt.id,
        [SpanAttributes.WebhookId]: attempt.webhookId,
        [SpanAttributes.SubscriptionId]: attempt.subscriptionId,
        [SpanAttributes.Event]: attempt.eventName,
        [SpanAttributes.TryNumber]: attempt.tries + 1,
      });
      if (attempt.tries > 0) span.setAttribute(SpanAttributes.HttpResendCount, attempt.tries);
    }
    return new WebhookTrySpan(api, span, this.propagate, this.faults);
  }
}
