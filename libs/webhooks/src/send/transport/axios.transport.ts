import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type http from 'node:http';
import type https from 'node:https';
import type { Readable } from 'node:stream';
import { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import { WEBHOOKS_OPTIONS } from '../../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import { createGuardedAgents } from './guarded-agents.js';
import { InFlightRequests } from './in-flight-requests.js';
import { DeadlineExceeded, toTransportError } from './transport-errors.js';
import {
  TRANSPORT_HEADERS,
  WebhookTransport,
  type WebhookTransportLimits,
  type WebhookTransportRequest,
  type WebhookTransportResponse,
} from './webhook-transport.js';

function flattenHeaders(headers: AxiosResponse['headers']): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined || value === null) continue;
    result[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return result;
}

/**
 * The axios transport: keep-alive agents behind the destination guard, no redirects (`maxRedirects:
 * 0`, so axios uses plain `http` instead of follow-redirects), no proxy, a total deadline enforced by a timer
 * that aborts the request or destroys the response stream (axios' `timeout` is only an idle timeout), and a
 * response read that stops at the cap and destroys the socket.
 */
@Injectable()
export class AxiosWebhookTransport extends WebhookTransport implements OnApplicationShutdown {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly inFlight = new InFlightRequests();

  private readonly http: AxiosInstance = axios.create();

  constructor(
    validator: WebhookDestinationValidator,
    @Inject(WEBHOOKS_OPTIONS) options: ResolvedWebhooksOptions,
  ) {
    super();
    ({ httpAgent: this.httpAgent, httpsAgent: this.httpsAgent } = createGuardedAgents(validator, options));
  }

  async send(request: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse> {
    const started = performance.now();
    const controller = this.inFlight.start(limits.signal);
    let stream: Readable | undefined;
    controller.signal.addEventListener('abort', () => stream?.destroy(new Error('aborted')), { once: true });
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort(new DeadlineExceeded());
      stream?.destroy(new DeadlineExceeded());
    }, limits.timeoutMs);
    try {
      const response = await this.http.request<Readable>({
        method: request.method,
        url: request.url,
        headers: { ...TRANSPORT_HEADERS, ...request.headers },
        data: request.body,
        transformRequest: [(data: unknown) => data],
        responseType: 'stream',
        decompress: false,
        maxRedirects: 0,
        proxy: false,
        validateStatus: () => true,
        signal: controller.signal,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
      });
      stream = response.data;
      const { body, truncated } = await readCapped(stream, limits.maxResponseBytes);
      return {
        statusCode: response.status,
        reason: response.statusText ?? '',
        headers: flattenHeaders(response.headers),
        body,
        truncated,
        elapsedMs: performance.now() - started,
      };
    } catch (error) {
      throw toTransportError(error, { timedOut, timeoutMs: limits.timeoutMs, elapsedMs: performance.now() - started, shutdown: limits.signal?.aborted });
    } finally {
      clearTimeout(deadline);
      this.inFlight.done(controller, limits.signal);
    }
  }

  onApplicationShutdown(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** Reads at most `max` bytes; past the cap the stream (and its socket) is destroyed. */
export function readCapped(stream: Readable, max: number): Promise<{ body: string; truncated: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (truncated: boolean) => {
      // Late errors (a socket destroyed after the cap) must not become uncaught exceptions.
      stream.off('data', onData).off('end', onEnd).off('error', onError).on('error', () => undefined);
      resolve({ body: Buffer.concat(chunks, size).toString('utf8'), truncated });
    };
    const onData = (chunk: Buffer) => {
      const remaining = max - size;
      if (chunk.length > remaining) {
        if (remaining > 0) chunks.push(chunk.subarray(0, remaining));
        size = max;
        finish(true);
        stream.destroy();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => finish(false);
    const onError = (error: Error) => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      reject(error);
    };
    stream.on('data', onData).once('end', onEnd).once('error', onError);
  });
}
