import type { Context, Span } from '@opentelemetry/api';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { OpenTelemetryApi } from './opentelemetry.js';
import { SpanAttributes } from './span-attributes.js';
import { TRACE_CONTEXT_HEADERS, traceContextHeaders } from './trace-context-headers.js';
import type { TracingFaults } from './tracing-faults.js';
import type { TrySpan } from './webhook-spans.js';

const OUTCOMES = { successful: 'successful', pending: 'retrying', failed: 'failed' } as const;

/** The key `suppressTracing` of `@opentelemetry/core` sets: instrumentations record nothing and inject nothing under it. */
const SUPPRESS_TRACING = 'OpenTelemetry SDK Context Key SUPPRESS_TRACING';

/** The host of a URL as `server.address` wants it (no brackets around IPv6), and its port; never its path or query. */
function serverOf(url: string): { address: string; port: number } | null {
  try {
    const { hostname, port, protocol } = new URL(url);
    return { address: hostname.replace(/^\[(.*)\]$/, '$1'), port: port ? Number(port) : protocol === 'https:' ? 443 : 80 };
  } catch {
    return null;
  }
}

/**
 * The span of one try (`webhooks.deliver <event>`, kind CLIENT). Attributes are written only when the span records
 * (a sampler may have left it out); its context is still propagated then, as W3C Trace Context asks.
 */
export class WebhookTrySpan implements TrySpan {
  private readonly recording: boolean;
  /** A context of its own: the try span, and nothing of the context the try happened to be queued from. */
  private readonly context: Context;

  constructor(
    private readonly api: OpenTelemetryApi,
    private readonly span: Span,
    private readonly propagate: boolean,
    private readonly faults: TracingFaults,
  ) {
    this.recording = span.isRecording();
    this.context = api.trace.setSpan(api.ROOT_CONTEXT, span);
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.within(this.context, work);
  }

  request<T>(send: () => Promise<T>): Promise<T> {
    if (this.propagate) return send();
    return this.within(this.context.setValue(this.api.createContextKey(SUPPRESS_TRACING), true), send);
  }

  sending<R extends { method: string; url: string; headers: Record<string, string> }>(request: R): R {
    return this.faults.guard('span sending', () => this.withTraceContext(request), request);
  }

  /** A try that did not succeed has the status ERROR, also when it will be retried. */
  end(updated: WebhookAttempt | null, error?: unknown): void {
    this.faults.guard('span end', () => this.finish(updated, error), undefined);
  }

  /** `work` in `context`; when the context manager throws, `work` alone (a throw of `work` itself is passed on). */
  private within<T>(context: Context, work: () => Promise<T>): Promise<T> {
    let started = false;
    try {
      return this.api.context.with(context, () => {
        started = true;
        return work();
      });
    } catch (error) {
      if (started) throw error;
      this.faults.report('context', error);
      return work();
    }
  }

  private withTraceContext<R extends { method: string; url: string; headers: Record<string, string> }>(request: R): R {
    if (this.recording) {
      this.span.setAttribute(SpanAttributes.HttpMethod, request.method);
      const server = serverOf(request.url);
      if (server) this.span.setAttribute(SpanAttributes.ServerAddress, server.address).setAttribute(SpanAttributes.ServerPort, server.port);
    }
    const context = this.span.spanContext();
    if (!this.propagate || !this.api.isSpanContextValid(context)) return request;
    // The library's header replaces one of the same name a subscription may have set, whatever its case.
    const headers: Record<string, string> = {};
    for (const name in request.headers) if (!TRACE_CONTEXT_HEADERS.has(name.toLowerCase())) headers[name] = request.headers[name]!;
    return { ...request, headers: { ...headers, ...traceContextHeaders(context) } };
  }

  private finish(updated: WebhookAttempt | null, error: unknown): void {
    const { span } = this;
    if (this.recording) {
      if (error !== undefined) {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      } else if (updated) {
        const tried = updated.history.at(-1);
        span.setAttribute(SpanAttributes.Outcome, OUTCOMES[updated.status]);
        if (tried?.statusCode != null) span.setAttribute(SpanAttributes.HttpStatusCode, tried.statusCode);
        if (updated.status !== 'successful') {
          span.setAttribute(SpanAttributes.ErrorType, tried?.errorCode ?? String(tried?.statusCode ?? 'unknown'));
          span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: tried?.message ?? updated.message ?? undefined });
        }
      } else {
        // Aborted at shutdown (tried again later), or resolved meanwhile by another process: this try counts for nothing.
        span.setAttributes({ [SpanAttributes.Outcome]: 'abandoned', [SpanAttributes.ErrorType]: 'aborted' });
        span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: 'the try was abandoned (shutdown, or the attempt was resolved meanwhile)' });
      }
    }
    span.end();
  }
}
