import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { isIP } from 'node:net';
import { Agent, buildConnector, request } from 'undici';
import { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import { WEBHOOKS_OPTIONS } from '../../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../webhooks.options.js';
import { readCapped } from './axios.transport.js';
import { InFlightRequests } from './in-flight-requests.js';
import { DeadlineExceeded, toTransportError } from './transport-errors.js';
import {
  TRANSPORT_HEADERS,
  WebhookTransport,
  type WebhookTransportLimits,
  type WebhookTransportRequest,
  type WebhookTransportResponse,
} from './webhook-transport.js';

/**
 * The undici 7 transport: one keep-alive `Agent` (a pool per origin, `perEndpointConcurrency` connections
 * each) whose connector refuses IP-literal hosts the policy blocks and resolves names through the destination
 * guard's `lookup`, so sockets connect only to vetted addresses. undici's `request` never follows redirects;
 * its `bodyTimeout` is per chunk, so a timer enforces the total deadline; the body read stops at the cap and
 * destroys the connection.
 */
@Injectable()
export class UndiciWebhookTransport extends WebhookTransport implements OnApplicationShutdown {
  private readonly agent: Agent;
  private readonly inFlight = new InFlightRequests();

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

  async send(req: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse> {
    const started = performance.now();
    const controller = this.inFlight.start(limits.signal);
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort(new DeadlineExceeded());
    }, limits.timeoutMs);
    try {
      const response = await request(req.url, {
        dispatcher: this.agent,
        method: req.method as 'POST',
        headers: { ...TRANSPORT_HEADERS, ...req.headers },
        body: req.body,
        signal: controller.signal,
      });
      // Most receivers answer with an empty body: skip the stream machinery then.
      const { body, truncated } =
        response.headers['content-length'] === '0'
          ? { body: (await response.body.dump(), ''), truncated: false }
          : await readCapped(response.body, limits.maxResponseBytes);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
      }
      return {
        statusCode: response.statusCode,
        reason: STATUS_CODES[response.statusCode] ?? '',
        headers,
        body,
        truncated,
        elapsedMs: performance.now() - started,
      };
    } catch (error) {
      throw toTransportError(error, timedOut, limits, performance.now() - started);
    } finally {
      clearTimeout(deadline);
      this.inFlight.done(controller);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.agent.destroy();
  }
}
