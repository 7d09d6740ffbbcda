/** One HTTP request as a dialect prepared it. */
export interface WebhookTransportRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Limits every transport enforces. */
export interface WebhookTransportLimits {
  /** Total deadline from the start of the request to the last byte read. */
  timeoutMs: number;
  /** Deadline for TCP + TLS connection set-up. */
  connectTimeoutMs: number;
  /** Bytes of the response body read; the connection is destroyed past it. */
  maxResponseBytes: number;
  /** Aborts the request (shutdown). */
  signal?: AbortSignal;
}

/** What a transport read of the response: status, headers, the body up to the cap, and timings. */
export interface WebhookTransportResponse {
  statusCode: number;
  reason: string;
  /** Lower-case header names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  body: string;
  truncated: boolean;
  elapsedMs: number;
}

/**
 * Why a request got no HTTP answer. `timeout` and `connect-timeout` are the deadlines; `blocked-address` and
 * `unresolvable` come from the destination guard at connect time.
 */
export type WebhookTransportErrorCode =
  | 'timeout'
  | 'connect-timeout'
  | 'connection-refused'
  | 'connection-reset'
  | 'unresolvable'
  | 'blocked-address'
  | 'tls'
  | 'aborted'
  | 'protocol'
  | 'unknown';

/** A request that got no HTTP answer. */
export class WebhookTransportError extends Error {
  override readonly name = 'WebhookTransportError';

  constructor(
    readonly code: WebhookTransportErrorCode,
    message: string,
    readonly elapsedMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Headers every transport sends in addition to the dialect's, so the wire format does not depend on the
 * client: responses are read raw and capped, so no compression is asked for.
 */
export const TRANSPORT_HEADERS: Readonly<Record<string, string>> = Object.freeze({ accept: '*/*', 'accept-encoding': 'identity' });

/**
 * Sends one request. Implementations never follow redirects, enforce `limits`, connect only to addresses the
 * destination guard vetted (its `lookup`, and a check of IP-literal hosts), and never use an ambient proxy.
 */
export abstract class WebhookTransport {
  abstract send(request: WebhookTransportRequest, limits: WebhookTransportLimits): Promise<WebhookTransportResponse>;
}
