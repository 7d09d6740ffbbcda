import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import { WEBHOOKS_OPTIONS } from '../../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../webhooks.options.js';
import { Deadlines, type Expiring } from './deadlines.js';
import { DeadlineExceeded, toTransportError } from './transport-errors.js';
import {
  TRANSPORT_HEADERS,
  WebhookTransport,
  type WebhookTransportLimits,
  type WebhookTransportRequest,
  type WebhookTransportResponse,
} from './webhook-transport.js';

/** Thrown into requests in flight when the shutdown signal fires. */
class ShutdownAbort extends Error {
  readonly code = 'ABORTED';
}

/**
 * The undici 7 transport: one keep-alive `Agent` (a pool per origin, `perEndpointConcurrency` connections
 * each) whose connector refuses IP-literal hosts the policy blocks and resolves names through the destination
 * guard's `lookup`, so sockets connect only to vetted addresses. Requests go through `dispatch` with a
 * handler of our own: no redirects (undici's dispatch never follows them), the body read stops at the cap and
 * aborting destroys the connection, and one timer per timeout value enforces the total deadline. Measured
 * against undici's `request()` this skips a stream, an `AbortController` and a timer per request.
 */
@Injectable()
export class UndiciWebhookTransport extends WebhookTransport implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly deadlines = new Deadlines();
  private readonly inFlight = new Set<UndiciExchange>();
  private readonly watchedSignals = new WeakSet<AbortSignal>();
  private readonly origins = new Map<string, { origin: string; path: string }>();

  constructor(validator: WebhookDestinationValidator, @Inject(WEBHOOKS_OPTIONS) options: ResolvedWebhooksOptions) {
    super();
    const { delivery, destinations } = options;
    const connect = buildConnector({
      timeout: delivery.connectTimeoutMs,
      lookup: validator.lookup,
      ca: destinations.tls?.ca,
      rejectUnauthorized: true,
      keepAlive: true,
    });
    const guarded: buildConnector.connector = (target, callback) => {
      if (target.socketPath) return callback(new Error('Webhook deliveries never use Unix sockets'), null);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        try {
          validator.checkAddress(host, host);
        } catch (error) {
          return callback(error as Error, null);
        }
      }
      connect(target, callback);
    };
    this.agent = new Agent({
      connect: guarded,
      connections: delivery.perEndpointConcurrency,
      pipelining: 1,
      headersTimeout: delivery.timeoutMs,
      bodyTimeout: delivery.timeoutMs,
    });
  }

  send(req: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse> {
    const { signal } = limits;
    if (signal && !this.watchedSignals.has(signal)) {
      // One listener per shutdown signal, not one per request.
      this.watchedSignals.add(signal);
      signal.addEventListener('abort', () => this.abortAll(), { once: true });
    }
    const target = this.split(req.url);
    return new Promise((resolve, reject) => {
      const exchange = new UndiciExchange(limits, resolve, reject, (done) => {
        this.inFlight.delete(done);
        this.deadlines.untrack(done, limits.timeoutMs);
      });
      if (signal?.aborted) return exchange.abort(new ShutdownAbort());
      this.inFlight.add(exchange);
      this.deadlines.track(exchange, limits.timeoutMs);
      this.agent.dispatch(
        { origin: target.origin, path: target.path, method: req.method as Dispatcher.HttpMethod, headers: { ...TRANSPORT_HEADERS, ...req.headers }, body: req.body },
        exchange,
      );
    });
  }

  /** Origin and path of a URL, cached: subscriptions send to few URLs many times. */
  private split(url: string): { origin: string; path: string } {
    let target = this.origins.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.origins.size >= 10_000) this.origins.delete(this.origins.keys().next().value!);
      this.origins.set(url, target);
    }
    return target;
  }

  private abortAll(): void {
    for (const exchange of this.inFlight) exchange.abort(new ShutdownAbort());
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }
}

/** One request/response exchange: undici's dispatch handler, settling one promise exactly once. */
class UndiciExchange implements Dispatcher.DispatchHandler, Expiring {
  deadline = 0;
  private readonly started = performance.now();
  private controller: Dispatcher.DispatchController | null = null;
  private pendingAbort: Error | null = null;
  private settled = false;
  private timedOut = false;
  private statusCode = 0;
  private headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly limits: WebhookTransportLimits,
    private readonly resolve: (response: WebhookTransportResponse) => void,
    private readonly reject: (error: unknown) => void,
    private readonly onDone: (exchange: UndiciExchange) => void,
  ) {}

  /** The total deadline passed. */
  expire(): void {
    this.timedOut = true;
    this.abort(new DeadlineExceeded());
  }

  /** Ends the exchange now with `reason`; the connection is destroyed once undici has handed it over. */
  abort(reason: Error): void {
    if (this.controller) this.controller.abort(reason);
    else this.pendingAbort = reason;
    this.fail(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.pendingAbort) controller.abort(this.pendingAbort);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.statusCode = statusCode;
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined) this.headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    }
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    const remaining = this.limits.maxResponseBytes - this.size;
    if (chunk.length > remaining) {
      // Past the cap: keep what fits, answer now, and drop the connection rather than read on.
      if (remaining > 0) this.chunks.push(chunk.subarray(0, remaining));
      this.size = this.limits.maxResponseBytes;
      this.succeed(true);
      controller.abort(new Error('response body over the read cap'));
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.succeed(false);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  private succeed(truncated: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.onDone(this);
    const body = this.size === 0 ? '' : Buffer.concat(this.chunks, this.size).toString('utf8');
    this.resolve({
      statusCode: this.statusCode,
      reason: STATUS_CODES[this.statusCode] ?? '',
      headers: this.headers,
      body,
      truncated,
      elapsedMs: performance.now() - this.started,
    });
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.onDone(this);
    this.reject(toTransportError(error, this.timedOut, this.limits, performance.now() - this.started));
  }
}
