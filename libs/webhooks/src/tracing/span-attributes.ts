/** The span attributes the library writes: its own under `webhooks.`, the rest from the OpenTelemetry conventions. */
export const SpanAttributes = {
  Event: 'webhooks.event',
  AttemptId: 'webhooks.attempt_id',
  AttemptIds: 'webhooks.attempt_ids',
  AttemptCount: 'webhooks.attempt_count',
  WebhookId: 'webhooks.webhook_id',
  SubscriptionId: 'webhooks.subscription_id',
  TryNumber: 'webhooks.try',
  Outcome: 'webhooks.outcome',
  HttpMethod: 'http.request.method',
  HttpStatusCode: 'http.response.status_code',
  HttpResendCount: 'http.request.resend_count',
  ServerAddress: 'server.address',
  ServerPort: 'server.port',
  ErrorType: 'error.type',
} as const;

/** The tracer's name: the instrumentation scope of every span the library starts. */
export const TRACER_NAME = 'nest-webhooks';

/** A publish span lists the ids of its attempts up to this many; past it, only their number. */
export const MAX_LISTED_ATTEMPT_IDS = 10;
