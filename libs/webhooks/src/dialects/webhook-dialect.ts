import type { WebhookSubscription } from '../core/webhook-subscription.js';

/** What a dialect externalizes: one event, once per (payload, event, dialect). */
export interface WebhookExternalizeContext {
  eventName: string;
  /** The object the event is about (the emitted payload). */
  payload: unknown;
  /** What the serializers chose to send for `payload` (see `WebhookPayloadSerializer`). */
  data: unknown;
  occurredAt: Date;
  dialect: string;
}

/** What a dialect turns into one HTTP request: one try of one attempt. */
export interface WebhookRequestContext {
  /** The `webhook-id`: stable across tries and redeliveries. */
  webhookId: string;
  attemptId: string;
  eventName: string;
  subscription: WebhookSubscription;
  /** The externalized body from `externalize`, unchanged on every try. */
  body: string;
  /** Secrets that sign now, newest first (two during a rotation overlap). */
  secrets: readonly string[];
  /** The subscription-defined headers to send (write-only values; never put them in the body). */
  headers: Readonly<Record<string, string>>;
  /** When this try is sent; signatures use it, so every try is signed afresh. */
  timestamp: Date;
}

/** The HTTP request a dialect makes of an attempt: method, headers (signature included) and body. */
export interface PreparedWebhookRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Controls what goes on the wire (`nti.webhooks`' `IWebhookDialect`): the body, the method, the headers and the
 * signature. Register one by name with `forRoot({ dialects })` or with `@WebhookDialect(name)` on a provider.
 */
export interface WebhookDialect {
  /** Produces the request body. Runs inside the publishing unit of work, so it sees the state being committed. */
  externalize(context: WebhookExternalizeContext): string;
  /** Builds one try's request. Runs in the delivery worker for every try. */
  prepareRequest(context: WebhookRequestContext): PreparedWebhookRequest;
}
