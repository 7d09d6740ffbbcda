import { WebhookDestinationError } from '../../destinations/destination.errors.js';
import { WebhookTransportError, type WebhookTransportErrorCode } from './webhook-transport.js';

/** Thrown into a request whose total deadline passed. */
export class DeadlineExceeded extends Error {
  readonly code = 'DEADLINE';
}

/** Thrown into requests in flight at shutdown. */
export class ShutdownAbort extends Error {
  readonly code = 'WEBHOOK_SHUTDOWN';
}

/** How a request without an answer ended, as its transport saw it. */
export interface UnansweredRequest {
  /** The total deadline passed. */
  timedOut: boolean;
  timeoutMs: number;
  elapsedMs: number;
  /** The caller's signal aborted it (shutdown); a `ShutdownAbort` error says the same. */
  shutdown?: boolean;
}

/** The `WebhookTransportError` for a request that got no answer: the deadline, a shutdown, or the cause found. */
export function toTransportError(error: unknown, { timedOut, timeoutMs, elapsedMs, shutdown = false }: UnansweredRequest): WebhookTransportError {
  if (timedOut) return new WebhookTransportError('timeout', `no complete response within ${timeoutMs} ms`, elapsedMs, { cause: error });
  if (shutdown || error instanceof ShutdownAbort) return new WebhookTransportError('aborted', 'the request was aborted (shutdown)', elapsedMs, { cause: error });
  const code = classifyTransportError(error);
  return new WebhookTransportError(code, (error as Error)?.message || code, elapsedMs, { cause: error });
}

const BY_ERRNO: Record<string, WebhookTransportErrorCode> = {
  ECONNREFUSED: 'connection-refused',
  ECONNRESET: 'connection-reset',
  EPIPE: 'connection-reset',
  ECONNABORTED: 'connection-reset',
  ENOTFOUND: 'unresolvable',
  EAI_AGAIN: 'unresolvable',
  EHOSTUNREACH: 'connection-refused',
  ENETUNREACH: 'connection-refused',
  ETIMEDOUT: 'connect-timeout',
  HPE_HEADER_OVERFLOW: 'protocol',
  UND_ERR_CONNECT_TIMEOUT: 'connect-timeout',
  UND_ERR_SOCKET: 'connection-reset',
  UND_ERR_CLOSED: 'connection-reset',
  UND_ERR_HEADERS_OVERFLOW: 'protocol',
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_RESPONSE_EXCEEDED_MAX_SIZE: 'protocol',
  UND_ERR_INVALID_ARG: 'protocol',
  ERR_HTTP_HEADERS_SENT: 'protocol',
};

/** Walks an error and its causes to a transport error code. */
export function classifyTransportError(error: unknown): WebhookTransportErrorCode {
  for (let e = error as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof WebhookDestinationError) return e.code === 'unresolvable' ? 'unresolvable' : 'blocked-address';
    const code = typeof e.code === 'string' ? e.code : '';
    if (BY_ERRNO[code]) return BY_ERRNO[code];
    if (code.startsWith('HPE_')) return 'protocol';
    if (code.startsWith('ERR_TLS') || code.includes('CERT') || code.startsWith('UNABLE_TO') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') return 'tls';
  }
  return 'unknown';
}
