import { createTraceState, TraceFlags, type SpanContext } from '@opentelemetry/api';
import { Logger } from '@nestjs/common';
import { describe, expect, it, vi } from 'vitest';
import { loadOpenTelemetryApi } from '../../libs/webhooks/src/tracing/opentelemetry.js';
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

describe('loading @opentelemetry/api', () => {
  const failing = (code: string | undefined) => () => Promise.reject(Object.assign(new Error(`cannot load (${code})`), { code }));

  it('turns tracing off quietly when the package is not installed, and says why when it fails otherwise', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      expect(await loadOpenTelemetryApi(failing('ERR_MODULE_NOT_FOUND'))).toBeNull();
      expect(await loadOpenTelemetryApi(failing('MODULE_NOT_FOUND'))).toBeNull();
      expect(warn).not.toHaveBeenCalled();
      expect(await loadOpenTelemetryApi(failing(undefined))).toBeNull();
      expect(warn.mock.calls).toEqual([['@opentelemetry/api could not be loaded, so webhooks are not traced: Error: cannot load (undefined)']]);
      expect(await loadOpenTelemetryApi()).toHaveProperty('trace');
    } finally {
      warn.mockRestore();
    }
  });
});
