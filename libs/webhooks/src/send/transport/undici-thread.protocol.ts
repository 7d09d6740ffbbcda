import type { LookupAddress } from 'node:dns';
import type { WebhookTransportErrorCode, WebhookTransportRequest, WebhookTransportResponse } from './webhook-transport.js';

/** What the sending thread is started with (`workerData`). */
export interface SendingThreadOptions {
  connectTimeoutMs: number;
  connections: number;
  timeoutMs: number;
  ca?: string | Buffer | Array<string | Buffer>;
}

/** One request handed to the sending thread. */
export interface ThreadRequest extends WebhookTransportRequest {
  id: number;
  /** The caller's abort signal, as a number (signals do not cross threads). */
  group?: number;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** The outcome of one request: a response, or why there is none. */
export type ThreadResult =
  | { id: number; response: WebhookTransportResponse }
  | { id: number; error: { code: WebhookTransportErrorCode; message: string; elapsedMs: number } };

/** An error crossing the thread boundary (classes do not survive `postMessage`). */
export interface ThreadError {
  name: string;
  code?: string;
  message: string;
}

/** Messages from the application thread to the sending thread. */
export type ToSendingThread =
  | { type: 'send'; requests: ThreadRequest[] }
  /** The requests of one abort group end as `aborted`. */
  | { type: 'abort'; group: number }
  | { type: 'vetted'; id: number; addresses?: LookupAddress[]; error?: ThreadError }
  | { type: 'close' };

/** Messages from the sending thread to the application thread. */
export type FromSendingThread =
  | { type: 'results'; results: ThreadResult[] }
  /** Asks the destination guard (on the application thread) for the vetted addresses of a host. */
  | { type: 'vet'; id: number; host: string }
  | { type: 'closed' };
