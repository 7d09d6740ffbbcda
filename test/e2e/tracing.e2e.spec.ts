import { Injectable, type INestApplication, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ServerResponse } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookClock, WebhookTransport, type WebhookTransportResponse } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { FakeResolver } from '../support/fake-resolver.js';
import { sequence, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, STORES, type StoreKind, storeFor } from '../support/webhooks-app.js';

/**
 * OpenTelemetry spans with a real SDK (`BasicTracerProvider` into an in-memory exporter) and a real HTTPS receiver:
 * a span per published event, a span per try linked to it, and the W3C trace context sent only when asked for.
 */
describe('tracing through @opentelemetry/api', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  const cleanups: Array<() => unknown> = [];

  beforeAll(() => {
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncHooksContextManager().enable());
  });
  afterAll(async () => {
    trace.disable();
    context.disable();
    await provider.shutdown();
  });
  beforeEach(() => exporter.reset());
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** An app with one subscription on a receiver answering 503 then 200; one retry, a minute later on the clock. */
  async function start(webhooks: WebhooksModuleOptions = {}, store: StoreKind = 'memory', responder = sequence(503, 200)) {
    const database = await storeFor(store);
    if (database) cleanups.push(() => database.drop());
    const receiver = await TestReceiver.start({ responder });
    cleanups.push(() => receiver.close());
    const clock = new FakeClock(Math.floor(Date.now() / 1000) * 1000);
    const resolver = new FakeResolver().set('receiver.test', ['127.0.0.1']);
    const app = await createWebhooksApp({
      database,
      webhooks: {
        ...webhooks,
        destinations: { lookup: resolver.lookup },
        delivery: { retrySchedule: [60_000], retryJitter: 0, overloadDelayMs: 0, pollIntervalMs: 60_000, ...webhooks.delivery },
      },
      overrides: [{ provide: WebhookClock, useValue: clock }],
    });
    cleanups.push(() => app.close());
    // Credentials, a path and a token in the URL: none of them may reach a span.
    const url = `https://hook-user:hook-pass@receiver.test:${receiver.port}/hooks/secret-path?token=t0k3n`;
    const { subscription, secret } = await app.get(WebhookSubscriptionManager).create({ url, events: ['order.*'] });
    const delivery = app.get(WebhookDeliveryManager);
    const retry = async () => {
      clock.advance(60_000);
      await delivery.processDueAttempts();
      await delivery.waitForPendingDeliveries();
    };
    return { app, receiver, subscription, secret, delivery, retry };
  }

  const spansNamed = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  const idOf = (span: ReadableSpan | Span) => span.spanContext().spanId;

  /** Publishes inside an active span, as a request handler would. */
  async function publishInRequest(app: INestApplication): Promise<Span> {
    return tracer.startActiveSpan('POST /orders', async (request) => {
      await app.get(WebhookPublisher).publish('order.created', { id: 'o-1' });
      request.end();
      return request;
    });
  }

  it.each(STORES)('a publish span under the publishing request, a try span per try linked to it, ERROR on the failed try (%s store)', async (store) => {
    const { app, subscription, delivery, retry } = await start({}, store);
    const request = await publishInRequest(app);
    await delivery.waitForPendingDeliveries();
    await retry();

    const [publish] = spansNamed('webhooks.publish order.created');
    expect(publish).toBeDefined();
    const [attempt] = await delivery.listAttempts(subscription.id);
    expect(attempt).toMatchObject({ status: 'successful', tries: 2 });
    expect(publish!.kind).toBe(SpanKind.PRODUCER);
    expect(publish!.parentSpanContext?.spanId).toBe(idOf(request));
    expect(publish!.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(publish!.attributes).toEqual({ 'webhooks.event': 'order.created', 'webhooks.attempt_count': 1, 'webhooks.attempt_ids': [attempt!.id] });

    const tries = spansNamed('webhooks.deliver order.created');
    expect(tries).toHaveLength(2);
    const [failed, succeeded] = tries as [ReadableSpan, ReadableSpan];
    const common = {
      'webhooks.attempt_id': attempt!.id,
      'webhooks.webhook_id': attempt!.webhookId,
      'webhooks.subscription_id': subscription.id,
      'webhooks.event': 'order.created',
      'http.request.method': 'POST',
      'server.address': 'receiver.test',
      'server.port': expect.any(Number),
    };
    expect(failed.kind).toBe(SpanKind.CLIENT);
    expect(failed.attributes).toEqual({ ...common, 'webhooks.try': 1, 'http.response.status_code': 503, 'webhooks.outcome': 'retrying', 'error.type': '503' });
    expect(failed.status).toEqual({ code: SpanStatusCode.ERROR, message: '503 Service Unavailable' });
    // Sent later from the queue: its own trace, linked to the publish span (first try in this process only).
    expect(failed.parentSpanContext).toBeUndefined();
    expect(failed.links.map((link) => link.context.spanId)).toEqual([idOf(publish!)]);
    expect(succeeded.attributes).toEqual({
      ...common,
      'webhooks.try': 2,
      'http.request.resend_count': 1,
      'http.response.status_code': 200,
      'webhooks.outcome': 'successful',
    });
    expect(succeeded.status.code).toBe(SpanStatusCode.UNSET);
    expect(succeeded.parentSpanContext).toBeUndefined();
    expect(succeeded.links).toEqual([]);

    const everything = JSON.stringify(exporter.getFinishedSpans().map((span) => span.attributes));
    for (const leak of ['hook-user', 'hook-pass', 'secret-path', 't0k3n']) expect(everything).not.toContain(leak);
  });

  it('without tracing.propagate nothing tells the receiver about the trace', async () => {
    const { app, receiver, delivery, retry } = await start();
    await publishInRequest(app);
    await delivery.waitForPendingDeliveries();
    await retry();
    expect(receiver.requests).toHaveLength(2);
    for (const request of receiver.requests) {
      expect(request.headers).not.toHaveProperty('traceparent');
      expect(request.headers).not.toHaveProperty('tracestate');
    }
  });

  it('with tracing.propagate each request carries its try span as traceparent, after signing; the recorded request shows it', async () => {
    const { app, receiver, subscription, secret, delivery, retry } = await start({ tracing: { propagate: true } });
    // Emitted rather than published: the context of emit() is kept until the batch is written.
    await tracer.startActiveSpan('POST /orders', async (request) => {
      app.get(EventEmitter2).emit('order.created', { id: 'o-2' });
      request.end();
    });
    await delivery.waitForPendingDeliveries();
    await retry();

    const tries = spansNamed('webhooks.deliver order.created');
    expect(tries).toHaveLength(2);
    expect(receiver.requests).toHaveLength(2);
    receiver.requests.forEach((request, i) => {
      const { traceId, spanId } = tries[i]!.spanContext();
      expect(request.headers.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      expect(request.headers).not.toHaveProperty('tracestate');
      // Standard Webhooks signs the id, timestamp and body: the added header leaves the signature valid.
      expect(new Webhook(secret).verify(request.body, request.headers)).toMatchObject({ type: 'order.created', data: { id: 'o-2' } });
    });
    const [publish] = spansNamed('webhooks.publish order.created');
    expect(publish!.parentSpanContext?.spanId).toBe(spansNamed('POST /orders')[0]!.spanContext().spanId);

    const [attempt] = await delivery.listAttempts(subscription.id);
    const { traceId, spanId } = tries[1]!.spanContext();
    expect(attempt!.request!.headers).toMatchObject({ traceparent: `00-${traceId}-${spanId}-01`, 'webhook-signature': '[redacted]' });
  });

  it('with no SDK registered, no span is recorded and no header is sent, even with propagation on', async () => {
    const { app, receiver, delivery } = await start({ tracing: { propagate: true } });
    trace.disable();
    try {
      await app.get(WebhookPublisher).publish('order.created', { id: 'o-3' });
      await delivery.waitForPendingDeliveries();
    } finally {
      trace.setGlobalTracerProvider(provider);
    }
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]!.headers).not.toHaveProperty('traceparent');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });

  it.each([false, true])('the transport sends with the try span active, in a context of its own (propagate: %s; suppressed without it)', async (propagate) => {
    const seen: Array<{ spanId: string | undefined; suppressed: boolean; baggage: boolean }> = [];
    @Injectable()
    class SpyTransport extends WebhookTransport {
      async send(): Promise<WebhookTransportResponse> {
        const active = context.active();
        seen.push({ spanId: trace.getSpan(active)?.spanContext().spanId, suppressed: isTracingSuppressed(active), baggage: propagation.getBaggage(active) !== undefined });
        return { statusCode: 204, reason: 'No Content', headers: {}, body: '', truncated: false, elapsedMs: 1 };
      }
    }
    const { app, delivery } = await start({ tracing: { propagate }, delivery: { transport: SpyTransport } });
    // The publishing request carries baggage, which is none of the receiver's business.
    const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'acme' } }));
    await context.with(withBaggage, () => publishInRequest(app));
    await delivery.waitForPendingDeliveries();

    const [tried] = spansNamed('webhooks.deliver order.created');
    expect(seen).toEqual([{ spanId: idOf(tried!), suppressed: !propagate, baggage: false }]);
  });

  it('a try abandoned at shutdown ends its span as abandoned', async () => {
    const held: ServerResponse[] = [];
    const { app, receiver } = await start({ delivery: { shutdownTimeoutMs: 100 } }, 'memory', (_request, res) => void held.push(res));
    await app.get(WebhookPublisher).publish('order.created', { id: 'o-4' });
    await receiver.waitForRequests(1);
    await app.close();
    held.splice(0).forEach((res) => res.destroy());

    const [tried] = spansNamed('webhooks.deliver order.created');
    expect(tried!.attributes).toMatchObject({ 'webhooks.outcome': 'abandoned', 'error.type': 'aborted' });
    expect(tried!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a tracing SDK that throws never stops a publish or a delivery: it is logged once, and the work goes on untraced', async () => {
    const broken: SpanProcessor = {
      onStart: () => {
        throw new Error('processor broke on start');
      },
      onEnd: () => {
        throw new Error('processor broke on end');
      },
      forceFlush: async () => undefined,
      shutdown: async () => undefined,
    };
    const brokenProvider = new BasicTracerProvider({ spanProcessors: [broken] });
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const { app, receiver, delivery, retry } = await start({ tracing: { propagate: true } });
    trace.disable();
    trace.setGlobalTracerProvider(brokenProvider);
    try {
      await publishInRequest(app);
      await delivery.waitForPendingDeliveries();
      await retry();
    } finally {
      trace.disable();
      trace.setGlobalTracerProvider(provider);
    }
    expect(receiver.requests).toHaveLength(2);
    const [attempt] = await delivery.searchAttempts({});
    expect(attempt).toMatchObject({ status: 'successful', tries: 2 });
    const tracingWarnings = warn.mock.calls.filter(([message]) => String(message).startsWith('Tracing failed'));
    expect(tracingWarnings).toEqual([[expect.stringMatching(/^Tracing failed \(.+\): Error: processor broke on start\. Webhooks go on untraced/)]]);
  });

  it('tracing.propagate must be a boolean', async () => {
    await expect(createWebhooksApp({ webhooks: { tracing: { propagate: 'yes' as never } } })).rejects.toThrow('tracing.propagate must be a boolean; got yes');
  });
});
