import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generateSigningSecret } from '../secrets/signing-secret.js';
import { parseBody, type ReceivedWebhook } from './received-webhook.js';
import { StandardWebhooksVerifier } from './standard-webhooks-verifier.js';

/** An answer of the receiver: a status, or a status with headers (`retry-after`, say) and a body. */
export type WebhookTestResponse = number | { status: number; headers?: Record<string, string>; body?: string };

/** Decides the answer to one request from what it carried; one that throws gets 500 (see `responderError`). */
export type WebhookTestResponder = (webhook: Omit<ReceivedWebhook, 'status' | 'responderError'>) => WebhookTestResponse;

/** Options of `WebhookTestReceiver.start`. */
export interface WebhookTestReceiverOptions {
  /**
   * The secret(s) signatures are verified with (`whsec_…`). @default a new secret, in `receiver.secret`: give it to
   * the subscription.
   */
  secret?: string | readonly string[];
  /** Serve HTTPS with this certificate and key (PEM) instead of HTTP; the library must trust its CA (`destinations.tls.ca`). */
  https?: { cert: string | Buffer; key: string | Buffer };
  /** The loopback address to listen on, also the host in `url`. @default '127.0.0.1' */
  host?: string;
  /** The clock signatures' timestamps are checked against: give it the test clock. @default the wall clock */
  clock?: { now(): Date };
  /** How far a `webhook-timestamp` may be from the clock. @default 300 (Standard Webhooks' 5 minutes) */
  toleranceSeconds?: number;
}

/** A condition `waitFor` waits for: a number of requests, or a request that passes a test. */
export type WebhookTestCondition = number | ((webhook: ReceivedWebhook) => boolean);

/**
 * A real HTTP(S) server on loopback for tests: it records every request it receives (parsed, with whether its
 * Standard Webhooks signature verified) and answers as the test says: `200` unless told otherwise.
 *
 * @example
 * const receiver = await WebhookTestReceiver.start();
 * receiver.respondWith(503, 200); // the first request fails, every later one succeeds
 * // … subscribe `${receiver.url}/hooks` with `receiver.secret`, emit an event …
 * const [webhook] = await receiver.waitFor(1);
 * await receiver.close();
 */
export class WebhookTestReceiver {
  /** The primary secret: the one to give the subscription. */
  readonly secret: string;
  private readonly received: ReceivedWebhook[] = [];
  private readonly verifier: StandardWebhooksVerifier;
  private readonly sockets = new Set<Socket>();
  private responses: WebhookTestResponse[] = [200];
  private responder: WebhookTestResponder | null = null;
  private readonly waiters = new Map<() => void, (error: Error) => void>();

  private constructor(
    private readonly server: http.Server,
    /** The receiver's base URL, such as `http://127.0.0.1:41234` (append a path for the subscription). */
    readonly url: string,
    options: WebhookTestReceiverOptions,
  ) {
    const secrets = options.secret === undefined ? [generateSigningSecret()] : typeof options.secret === 'string' ? [options.secret] : [...options.secret];
    if (secrets.length === 0) throw new TypeError('WebhookTestReceiver: secret must name at least one secret');
    this.secret = secrets[0]!;
    this.verifier = new StandardWebhooksVerifier(secrets, () => options.clock?.now() ?? new Date(), options.toleranceSeconds);
  }

  /** Starts a receiver on a free port. */
  static async start(options: WebhookTestReceiverOptions = {}): Promise<WebhookTestReceiver> {
    const host = options.host ?? '127.0.0.1';
    let receiver!: WebhookTestReceiver;
    const handler = (req: IncomingMessage, res: ServerResponse) => void receiver.handle(req, res);
    const server = options.https ? https.createServer({ cert: options.https.cert, key: options.https.key }, handler) : http.createServer(handler);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookTestReceiver(server, `${options.https ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`, options);
    server.on(options.https ? 'secureConnection' : 'connection', (socket: Socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  /** Every request received so far, oldest first. */
  get webhooks(): readonly ReceivedWebhook[] {
    return this.received;
  }

  /**
   * How to answer from now on. Statuses (or responses) answer the next requests in turn, the last one repeating:
   * `respondWith(503, 503, 200)` fails twice, then succeeds. A function decides for each request.
   */
  respondWith(...responses: WebhookTestResponse[] | [WebhookTestResponder]): this {
    if (responses.length === 1 && typeof responses[0] === 'function') {
      this.responder = responses[0];
      return this;
    }
    if (responses.length === 0) throw new TypeError('respondWith() needs at least one status');
    this.responder = null;
    this.responses = [...(responses as WebhookTestResponse[])];
    return this;
  }

  /**
   * Resolves with the requests received once there are at least `count` of them, or with those that pass
   * `predicate` once there is one. Rejects after `timeoutMs`, saying what did arrive.
   */
  waitFor(condition: WebhookTestCondition, timeoutMs = 5_000): Promise<ReceivedWebhook[]> {
    const check = (): ReceivedWebhook[] | null => {
      if (typeof condition === 'number') return this.received.length >= condition ? [...this.received] : null;
      const matching = this.received.filter(condition);
      return matching.length > 0 ? matching : null;
    };
    const now = check();
    if (now) return Promise.resolve(now);
    const wanted = typeof condition === 'number' ? `${condition} request(s)` : 'a request passing the predicate';
    return new Promise((resolve, reject) => {
      const settle = (outcome: () => void) => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        outcome();
      };
      const waiter = () => {
        const done = check();
        if (done) settle(() => resolve(done));
      };
      const timer = setTimeout(() => settle(() => reject(new Error(`WebhookTestReceiver: waited ${timeoutMs} ms for ${wanted}; received ${this.describe()}`))), timeoutMs);
      this.waiters.set(waiter, (error) => settle(() => reject(error)));
    });
  }

  /** Forgets the requests received so far (the answers set with `respondWith` stay). */
  clear(): void {
    this.received.length = 0;
  }

  /** Stops the server, dropping open connections; a `waitFor` still waiting rejects. */
  async close(): Promise<void> {
    for (const fail of [...this.waiters.values()]) fail(new Error(`WebhookTestReceiver: closed while waiting; received ${this.describe()}`));
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** The received requests in a line, for error messages: `2 (order.created ✓, order.created ✗)`. */
  describe(): string {
    if (this.received.length === 0) return 'nothing';
    return `${this.received.length} (${this.received.map((w) => `${w.type ?? w.path} ${w.verified ? '✓' : '✗'}`).join(', ')})`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    const headers: Record<string, string> = {};
    // Signatures are one space-separated list: repeated headers joined with ", " would not verify.
    for (const [name, values] of Object.entries(req.headersDistinct)) if (values) headers[name] = values.join(name === 'webhook-signature' ? ' ' : ', ');
    const { verified, error } = this.verifier.verify(headers, body);
    const seconds = Number(headers['webhook-timestamp']);
    const request = {
      id: headers['webhook-id'] ?? null,
      ...parseBody(body),
      body,
      timestamp: headers['webhook-timestamp'] && Number.isFinite(seconds) ? new Date(seconds * 1000) : null,
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      verified,
      verificationError: error,
      receivedAt: new Date(),
    };
    let response: WebhookTestResponse;
    let responderError: string | null = null;
    try {
      response = this.responder ? this.responder(request) : this.responses.length > 1 ? this.responses.shift()! : this.responses[0]!;
    } catch (error) {
      responderError = `the responder threw: ${messageOf(error)}`;
      response = 500;
    }
    let { status, headers: responseHeaders = {}, body: responseBody = '' } = typeof response === 'number' ? { status: response } : response;
    try {
      res.writeHead(status, { 'content-type': 'text/plain', ...responseHeaders });
    } catch (error) {
      // A status out of range or a header Node refuses: the request still gets an answer, and the test sees why.
      responderError = `answering ${status} failed: ${messageOf(error)}`;
      [status, responseBody] = [500, ''];
      res.writeHead(status, { 'content-type': 'text/plain' });
    }
    this.received.push(Object.freeze({ ...request, status, responderError }));
    res.end(responseBody);
    for (const waiter of [...this.waiters.keys()]) waiter();
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
