import { createTraceState, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { PublishLinks } from '../../libs/webhooks/src/tracing/publish-links.js';
import { traceContextHeaders } from '../../libs/webhooks/src/tracing/trace-context-headers.js';

const spanContext = (spanId: string, extra: Partial<SpanContext> = {}): SpanContext => ({
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId,
  traceFlags: TraceFlags.SAMPLED,
  ...extra,
});

describe('publish links', () => {
  it('give each publish span back once, and forget the oldest past their bound', () => {
    const links = new PublishLinks(3);
    for (const id of ['a1', 'a2', 'a3', 'a4']) links.remember(id, spanContext(`00f067aa0ba902b${id.at(-1)}`));
    expect(links.size).toBe(3);
    expect(links.take('a1')).toBeUndefined();
    expect(links.take('a2')?.spanId).toBe('00f067aa0ba902b2');
    expect(links.take('a2')).toBeUndefined();
    expect(links.size).toBe(2);
  });
});

describe('W3C trace context headers', () => {
  it('traceparent from the span context; tracestate only when there is one', () => {
    expect(traceContextHeaders(spanContext('00f067aa0ba902b7'))).toEqual({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
    const unsampled = spanContext('00f067aa0ba902b7', { traceFlags: TraceFlags.NONE, traceState: createTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7') });
    expect(traceContextHeaders(unsampled)).toEqual({
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00',
      tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    });
  });
});
