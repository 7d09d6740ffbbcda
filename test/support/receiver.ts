import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { testTls } from './tls.js';

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Header names exactly as sent on the wire, in order. */
  rawHeaderNames: string[];
  body: string;
  receivedAt: number;
}

export type Responder = (request: ReceivedRequest, res: ServerResponse, req: IncomingMessage) => void | Promise<void>;

export interface ReceiverOptions {
  /** `https` (default, with the test CA's certificate), `http`, or `untrusted-https` (self-signed). */
  protocol?: 'https' | 'http' | 'untrusted-https';
  host?: string;
  responder?: Responder;
}

/** A real HTTP(S) server on loopback that records every request and answers as the test says. */
export class TestReceiver {
  readonly requests: ReceivedRequest[] = [];
  private responder: Responder;
  private readonly sockets = new Set<Socket>();
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  private constructor(
    private readonly server: http.Server,
    readonly url: string,
    responder: Responder,
  ) {
    this.responder = responder;
  }

  static async start(options: ReceiverOptions = {}): Promise<TestReceiver> {
    const protocol = options.protocol ?? 'https';
    const host = options.host ?? '127.0.0.1';
    let receiver!: TestReceiver;
    const handler = (req: IncomingMessage, res: ServerResponse) => void receiver.handle(req, res);
    const server =
      protocol === 'http'
        ? http.createServer(handler)
        : https.createServer(
            protocol === 'https' ? { cert: testTls.cert, key: testTls.key } : { cert: testTls.untrustedCert, key: testTls.untrustedKey },
            handler,
          );
    await new Promise<void>((resolve) => server.listen(0, host, resolve));
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    receiver = new TestReceiver(server, `${protocol === 'http' ? 'http' : 'https'}://${urlHost}:${port}`, options.responder ?? ok());
    server.on('connection', (socket: Socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    server.on('secureConnection', (socket: Socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  respondWith(responder: Responder): void {
    this.responder = responder;
  }

  /** Resolves once at least `count` requests arrived. */
  waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`receiver got ${this.requests.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ count, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    const rawHeaderNames = req.rawHeaders.filter((_, i) => i % 2 === 0);
    const request: ReceivedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers,
      rawHeaderNames,
      body: Buffer.concat(chunks).toString('utf8'),
      receivedAt: Date.now(),
    };
    this.requests.push(request);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.count ? (w.resolve(), false) : true));
    try {
      await this.responder(request, res, req);
    } catch {
      res.destroy();
    }
  }
}

/** Answers `status` with an empty `text/plain` body (the seed's HTTP mock). */
export function ok(status = 200, headers: Record<string, string> = {}): Responder {
  return (_request, res) => {
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end();
  };
}

/** Answers each request with the next status; the last one repeats (seed: sequential mocks). */
export function sequence(...statuses: number[]): Responder {
  let i = 0;
  return (request, res, req) => ok(statuses[Math.min(i++, statuses.length - 1)]!)(request, res, req);
}
