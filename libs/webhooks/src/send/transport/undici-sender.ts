import type { LookupFunction } from 'node:net';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import { Deadlines, type Expiring } from './deadlines.js';
import { DeadlineExceeded, ShutdownAbort, toTransportError } from './transport-errors.js';
import { TRANSPORT_HEADERS, WebhookTransportError, type WebhookTransportRequest, type WebhookTransportResponse } from './webhook-transport.js';

export interface UndiciSenderOptions {
  connectTimeoutMs: number;
  /** Connections per origin. */
  connections: number;
  /** undici's per-phase timeouts (headers, body idle); the total deadline is enforced per request. */
  timeoutMs: number;
  ca?: string | Buffer | Array<string | Buffer>;
  /** Resolves a name to vetted addresses only (the destination guard). */
  lookup: LookupFunction;
  /** Throws when an IP-literal host may not be connected to (IP literals never reach `lookup`). */
  checkAddress(address: string): void | Promise<void>;
}

/** Per-request limits the sender enforces. */
export interface UndiciSendLimits {
  timeoutMs: number;
  maxResponseBytes: number;
}

/**
 * The HTTP work of the undici transports, in-process or in the sending thread: one keep-alive `Agent` (a pool
 * per origin) whose connector refuses Unix sockets and blocked IP-literal hosts and resolves names only
 * through the guard's `lookup`, so sockets connect to vetted addresses. Requests go through `dispatch` with a
 * handler of our own: undici's dispatch never follows redirects, the body read stops at the cap (aborting
 * destroys the connection), and one timer per timeout value enforces the total deadline. Compared with
 * undici's `request()` this skips a stream, an `AbortController` and a timer per request.
 */
export class UndiciSender {
  private readonly agent: Agent;
  private readonly deadlines = new Deadlines();
  private readonly inFlight = new Set<UndiciExchange>();
  /** Requests by abort group (a caller's shutdown signal), so aborting one group leaves the others alone. */
  private readonly groups = new Map<unknown, Set<UndiciExchange>>();
  private readonly targets = new Map<string, { origin: string; path: string }>();

  constructor(options: UndiciSenderOptions) {
    const connect = buildConnector({ timeout: options.connectTimeoutMs, lookup: options.lookup, ca: options.ca, rejectUnauthorized: true, keepAlive: true });
    const guarded: buildConnector.connector = (target, callback) => {
      if (target.socketPath) return callback(new Error('Webhook deliveries never use Unix sockets'), null);
      const host = target.hostname.replace(/^\[|\]$/g, '');
      if (!isIP(host)) return connect(target, callback);
      Promise.resolve()
        .then(() => options.checkAddress(host))
        .then(
          () => connect(target, callback),
          (error: Error) => callback(error, null),
        );
    };
    this.agent = new Agent({ connect: guarded, connections: options.connections, pipelining: 1, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs });
  }

  get size(): number {
    return this.inFlight.size;
  }

  /** Sends one request; never throws (a URL that does not parse is a rejected `protocol` error). */
  send(req: WebhookTransportRequest, limits: UndiciSendLimits, group?: unknown): Promise<WebhookTransportResponse> {
    return new Promise((resolve, reject) => {
      let target: { origin: string; path: string };
      try {
        target = this.split(req.url);
      } catch (error) {
        return reject(new WebhookTransportError('protocol', `the request URL does not parse: ${(error as Error).message}`, 0, { cause: error }));
      }
      let members: Set<UndiciExchange> | undefined;
      if (group !== undefined) {
        members = this.groups.get(group);
        if (!members) this.groups.set(group, (members = new Set()));
      }
      const exchange = new UndiciExchange(limits, resolve, reject, (done) => {
        this.inFlight.delete(done);
        this.deadlines.untrack(done, limits.timeoutMs);
        if (members) {
          members.delete(done);
          if (members.size === 0 && this.groups.get(group) === members) this.groups.delete(group);
        }
      });
      this.inFlight.add(exchange);
      members?.add(exchange);
      this.deadlines.track(exchange, limits.timeoutMs);
      this.agent.dispatch(
        { origin: target.origin, path: target.path, method: req.method as Dispatcher.HttpMethod, headers: { ...TRANSPORT_HEADERS, ...req.headers }, body: req.body },
        exchange,
      );
    });
  }

  /** Ends the requests of one abort group as `aborted`. */
  abortGroup(group: unknown): void {
    for (const exchange of [...(this.groups.get(group) ?? [])]) exchange.abort(new ShutdownAbort());
  }

  /** Ends every request in flight as `aborted` (shutdown). */
  abortAll(): void {
    for (const exchange of [...this.inFlight]) exchange.abort(new ShutdownAbort());
  }

  close(): Promise<void> {
    return this.agent.destroy();
  }

  /** Origin and path of a URL, cached: subscriptions send to few URLs many times. */
  private split(url: string): { origin: string; path: string } {
    let target = this.targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (this.targets.size >= 10_000) this.targets.delete(this.targets.keys().next().value!);
      this.targets.set(url, target);
    }
    return target;
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
  private callbacks: ExchangeCallbacks | null;

  constructor(
    private readonly limits: UndiciSendLimits,
    resolve: (response: WebhookTransportResponse) => void,
    reject: (error: unknown) => void,
    onDone: (exchange: UndiciExchange) => void,
  ) {
    this.callbacks = { resolve, reject, onDone };
  }

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
    // Informational answers (100, 103 Early Hints) precede the response; their headers are not its headers.
    if (statusCode < 200) return;
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
    const callbacks = this.settle();
    if (!callbacks) return;
    const body = this.size === 0 ? '' : Buffer.concat(this.chunks, this.size).toString('utf8');
    const headers = this.headers;
    this.chunks = [];
    this.headers = {};
    callbacks.resolve({
      statusCode: this.statusCode,
      reason: STATUS_CODES[this.statusCode] ?? '',
      headers,
      body,
      truncated,
      elapsedMs: performance.now() - this.started,
    });
  }

  private fail(error: unknown): void {
    const callbacks = this.settle();
    callbacks?.reject(toTransportError(error, { timedOut: this.timedOut, timeoutMs: this.limits.timeoutMs, elapsedMs: performance.now() - this.started }));
  }

  /**
   * Marks the exchange settled (once) and lets go of the caller's promise and of undici's request. The sets
   * this exchange sat in (in flight, deadlines, abort group) add and delete an entry per request, and in those
   * V8 keeps removed entries reachable to young-generation collections for a while (many survive into the old
   * generation): whatever a settled exchange still referenced, the
   * caller's suspended delivery with its payload included, would be promoted with it and wait for a full GC.
   */
  private settle(): ExchangeCallbacks | null {
    const callbacks = this.callbacks;
    if (this.settled || !callbacks) return null;
    this.settled = true;
    this.callbacks = null;
    this.controller = null;
    callbacks.onDone(this);
    return callbacks;
  }
}

interface ExchangeCallbacks {
  resolve: (response: WebhookTransportResponse) => void;
  reject: (error: unknown) => void;
  onDone: (exchange: UndiciExchange) => void;
}
