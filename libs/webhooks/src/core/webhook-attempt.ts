/** `pending` → `successful` | `failed`, exactly once. */
export type WebhookAttemptStatus = 'pending' | 'successful' | 'failed';

/** The request actually sent (`nti.webhooks`' `IWebhookDeliveryAttemptRequest`); sensitive headers are redacted. */
export interface WebhookAttemptRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  sentAt: Date;
}

/** The response received (`nti.webhooks`' `IWebhookDeliveryAttemptResponse`); the body is capped. */
export interface WebhookAttemptResponse {
  statusCode: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
  /** True when the body was longer than `delivery.maxStoredResponseBytes` and was cut. */
  truncated: boolean;
  elapsedMs: number;
  receivedAt: Date;
}

/** One try of an attempt, kept for the history (request summary and outcome). */
export interface WebhookAttemptTry {
  number: number;
  startedAt: Date;
  elapsedMs: number;
  statusCode: number | null;
  message: string;
  /** A reason code for failures without an HTTP answer (`timeout`, `connection-reset`, `blocked-address`, …). */
  errorCode: string | null;
}

/** Debugging information, never returned by the management API (`nti.webhooks`' `IWebhookDeliveryAttemptInternalInfo`). */
export interface WebhookAttemptInternalInfo {
  originated: { pid: number; hostname: string; createdAt: Date; note: string | null };
  /** Error descriptions, oldest first. */
  exceptionHistory: string[];
}

/** One delivery of one event to one subscription, with every try it took. */
export interface WebhookAttempt {
  readonly id: string;
  /** The `webhook-id` header: the attempt id, or the original attempt's for a redelivery. */
  readonly webhookId: string;
  readonly subscriptionId: string;
  readonly eventName: string;
  readonly status: WebhookAttemptStatus;
  readonly message: string | null;
  /** The externalized body (dialect output), sent unchanged on every try. */
  readonly payload: string;
  /** The dialect that externalized `payload`. */
  readonly dialect: string;
  readonly request: WebhookAttemptRequest | null;
  readonly response: WebhookAttemptResponse | null;
  readonly tries: number;
  readonly history: readonly WebhookAttemptTry[];
  /** When the next try is due; `null` once resolved. */
  readonly nextAttemptAt: Date | null;
  /** The publisher's idempotency key: one attempt per (subscription, key). */
  readonly idempotencyKey: string | null;
  readonly internal: WebhookAttemptInternalInfo;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
