import type { SpanContext } from '@opentelemetry/api';

/** Header names of the W3C trace context, lower case. */
export const TRACE_CONTEXT_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'tracestate']);

/**
 * The W3C Trace Context headers of a span (`traceparent`, and `tracestate` when it has one). Written here rather
 * than through the application's global propagator: that one may be set up to send baggage too, which can hold
 * anything the application put there and must not reach third-party receivers.
 */
export function traceContextHeaders(context: SpanContext): Record<string, string> {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  const headers: Record<string, string> = { traceparent: `00-${context.traceId}-${context.spanId}-${flags}` };
  const state = context.traceState?.serialize();
  if (state) headers.tracestate = state;
  return headers;
}
