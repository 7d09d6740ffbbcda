import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import { WEBHOOKS_OPTIONS } from '../../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import type { FromSendingThread, SendingThreadOptions, ThreadError, ThreadRequest, ToSendingThread } from './undici-thread.protocol.js';
import { WebhookTransport, WebhookTransportError, type WebhookTransportLimits, type WebhookTransportRequest, type WebhookTransportResponse } from './webhook-transport.js';

/** The compiled entry of the sending thread. From the TypeScript sources (the test runner) that is the built file. */
function threadEntry(): URL {
  const entry = new URL('./undici-thread.worker.js', import.meta.url);
  return import.meta.url.endsWith('.ts') ? new URL(entry.href.replace('/libs/webhooks/src/', '/libs/webhooks/dist/')) : entry;
}

const abortedError = () => new WebhookTransportError('aborted', 'the request was aborted (shutdown)', 0);

const serializeError = (error: unknown): ThreadError => ({
  name: (error as Error)?.name ?? 'Error',
  code: typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined,
  message: (error as Error)?.message ?? String(error),
});

interface Waiting {
  resolve(response: WebhookTransportResponse): void;
  reject(error: WebhookTransportError): void;
}

/**
 * `delivery.transport: 'undici-thread'`: the undici transport with its HTTP work in a worker thread, so
 * publishing, signing and bookkeeping (this thread) and sending (that one) use two cores. Requests cross in
 * batches, one message per event-loop turn each way. The destination guard stays here: when the thread opens
 * a connection it asks for the host's vetted addresses (a fresh resolution, every address checked) and
 * connects only to those, exactly like the in-process transport. The thread is started on the first request
 * and again after a crash (requests in flight then fail as retryable `unknown` errors).
 */
@Injectable()
export class UndiciThreadWebhookTransport extends WebhookTransport implements OnApplicationShutdown {
  private readonly logger = new Logger('WebhookSendingThread');
  private readonly threadOptions: SendingThreadOptions;
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private outbox: ThreadRequest[] = [];
  private nextId = 0;
  /** Abort groups: each caller signal gets a number the thread knows its requests by. */
  private readonly groups = new WeakMap<AbortSignal, number>();
  private nextGroup = 0;
  private closed = false;

  constructor(
    private readonly validator: WebhookDestinationValidator,
    @Inject(WEBHOOKS_OPTIONS) options: ResolvedWebhooksOptions,
  ) {
    super();
    const { delivery, destinations } = options;
    this.threadOptions = {
      connectTimeoutMs: delivery.connectTimeoutMs,
      connections: delivery.perEndpointConcurrency,
      timeoutMs: delivery.timeoutMs,
      ca: destinations.tls?.ca,
    };
  }

  send(request: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse> {
    const { signal } = limits;
    if (signal?.aborted || this.closed) return Promise.reject(abortedError());
    const group = signal ? this.groupOf(signal) : undefined;
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.waiting.set(id, { resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.flush());
      this.outbox.push({ id, group, method: request.method, url: request.url, headers: request.headers, body: request.body, timeoutMs: limits.timeoutMs, maxResponseBytes: limits.maxResponseBytes });
    });
  }

  /** The abort group of a caller's signal; its abort ends only its own requests, here and in the thread. */
  private groupOf(signal: AbortSignal): number {
    let group = this.groups.get(signal);
    if (group === undefined) {
      const assigned = (group = this.nextGroup++);
      this.groups.set(signal, assigned);
      signal.addEventListener(
        'abort',
        () => {
          // Not handed over yet: end them here. Handed over: the thread ends them.
          this.outbox = this.outbox.filter((request) => request.group !== assigned || !this.settle(request.id, abortedError()));
          this.worker?.postMessage({ type: 'abort', group: assigned } satisfies ToSendingThread);
        },
        { once: true },
      );
    }
    return group;
  }

  /** Rejects a waiting request; false when it already settled. */
  private settle(id: number, error: WebhookTransportError): boolean {
    const waiter = this.waiting.get(id);
    if (!waiter) return false;
    this.waiting.delete(id);
    waiter.reject(error);
    return true;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    if (!worker) return;
    const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'close' } satisfies ToSendingThread);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
    await worker.terminate();
  }

  private flush(): void {
    // Only requests still waiting: one may have been failed (thread exit) or aborted since it was queued.
    const requests = this.outbox.filter((request) => this.waiting.has(request.id));
    this.outbox = [];
    if (requests.length === 0) return;
    if (this.closed) {
      for (const { id } of requests) this.settle(id, abortedError());
      return;
    }
    try {
      const worker = this.thread();
      // The thread keeps the process alive only while requests are in flight.
      worker.ref();
      worker.postMessage({ type: 'send', requests } satisfies ToSendingThread);
    } catch (error) {
      // The thread could not be started (or the batch not handed over): these tries fail and are retried.
      this.logger.error(`The sending thread is unavailable: ${(error as Error)?.message ?? String(error)}`);
      for (const { id } of requests) this.settle(id, new WebhookTransportError('unknown', 'the sending thread is unavailable', 0, { cause: error }));
    }
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(threadEntry(), { workerData: this.threadOptions, name: 'nest-webhooks sender' });
    worker.on('message', (message: FromSendingThread) => this.onMessage(worker, message));
    worker.on('error', (error) => this.logger.error(`The sending thread failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(`the sending thread stopped (exit code ${code})`);
    });
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, message: FromSendingThread): void {
    if (message.type === 'results') {
      for (const result of message.results) {
        const waiter = this.waiting.get(result.id);
        if (!waiter) continue;
        this.waiting.delete(result.id);
        if ('response' in result) waiter.resolve(result.response);
        else waiter.reject(new WebhookTransportError(result.error.code, result.error.message, result.error.elapsedMs));
      }
      if (this.waiting.size === 0) worker.unref();
    } else if (message.type === 'vet') {
      this.vet(message.host).then(
        (addresses) => worker.postMessage({ type: 'vetted', id: message.id, addresses } satisfies ToSendingThread),
        (error: unknown) => worker.postMessage({ type: 'vetted', id: message.id, error: serializeError(error) } satisfies ToSendingThread),
      );
    }
  }

  /** The guard's answer for a host the thread connects to: an IP literal checked, or a name resolved and checked. */
  private async vet(host: string): Promise<LookupAddress[]> {
    if (isIP(host)) {
      this.validator.checkAddress(host, host);
      return [{ address: host, family: isIP(host) }];
    }
    return new Promise((resolve, reject) => {
      this.validator.lookup(host, { all: true }, ((error: Error | null, addresses: LookupAddress[]) => (error ? reject(error) : resolve(addresses))) as never);
    });
  }

  private failAll(reason: string): void {
    this.outbox = [];
    for (const id of [...this.waiting.keys()]) this.settle(id, new WebhookTransportError(this.closed ? 'aborted' : 'unknown', reason, 0));
  }
}
