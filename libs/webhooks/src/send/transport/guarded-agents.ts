import http from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import type { WebhookDestinationValidator } from '../../destinations/webhook-destination.validator.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';

/** A socket that took longer than `delivery.connectTimeoutMs` to connect. */
export class ConnectTimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
  override readonly name = 'ConnectTimeoutError';
}

type CreateConnection = (options: http.ClientRequestArgs, callback?: (err: Error | null, socket: Socket) => void) => Socket;

/**
 * Wraps an agent's `createConnection`: IP-literal hosts (which never reach a custom `lookup`) are checked
 * against the destination policy before a socket exists, Unix sockets are refused, and connection set-up
 * gets its own deadline.
 */
function guard(agent: http.Agent, validator: WebhookDestinationValidator, connectTimeoutMs: number, secure: boolean): void {
  const original = (agent as unknown as { createConnection: CreateConnection }).createConnection.bind(agent);
  (agent as unknown as { createConnection: CreateConnection }).createConnection = (options, callback) => {
    if (options.socketPath) throw new Error('Webhook deliveries never use Unix sockets');
    const host = String(options.host ?? '').replace(/^\[|\]$/g, '');
    if (isIP(host)) validator.checkAddress(host, host);
    const socket = original(options, callback);
    const timer = setTimeout(() => socket.destroy(new ConnectTimeoutError(`connecting to ${host} took longer than ${connectTimeoutMs} ms`)), connectTimeoutMs);
    timer.unref();
    socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    return socket;
  };
}

/** Keep-alive agents whose every connection goes through the destination guard. */
export function createGuardedAgents(
  validator: WebhookDestinationValidator,
  options: ResolvedWebhooksOptions,
): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const common = {
    keepAlive: true,
    maxSockets: options.delivery.perEndpointConcurrency,
    maxFreeSockets: options.delivery.perEndpointConcurrency,
    lookup: validator.lookup,
    scheduling: 'lifo' as const,
  };
  const httpAgent = new http.Agent(common);
  const httpsAgent = new https.Agent({ ...common, ca: options.destinations.tls?.ca, rejectUnauthorized: true });
  guard(httpAgent, validator, options.delivery.connectTimeoutMs, false);
  guard(httpsAgent, validator, options.delivery.connectTimeoutMs, true);
  return { httpAgent, httpsAgent };
}
