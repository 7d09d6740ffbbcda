import type { WebhookAttempt, WebhookSubscription } from 'nest-webhooks';
import { redactUrl } from 'nest-webhooks/extensions';
import type { AttemptDetailResponse, AttemptSummaryResponse } from './dto/attempt.dto.js';
import type { SubscriptionResponse } from './dto/subscription.dto.js';

/** What the API shows of a subscription: never a secret, URL credentials masked. */
export function subscriptionView(s: WebhookSubscription): SubscriptionResponse {
  return {
    id: s.id,
    url: redactUrl(s.url),
    events: [...s.events],
    payloadType: typeof s.payloadType === 'string' ? s.payloadType : null,
    dialect: s.dialect,
    scope: s.scope,
    ownerId: s.ownerId ?? '',
    active: s.active,
    statusMessage: s.statusMessage,
    description: s.description,
    metadata: { ...s.metadata },
    headerNames: [...s.headerNames],
    retrySchedule: s.retrySchedule ? [...s.retrySchedule] : null,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function attemptSummaryView(a: WebhookAttempt): AttemptSummaryResponse {
  return {
    id: a.id,
    webhookId: a.webhookId,
    subscriptionId: a.subscriptionId,
    eventName: a.eventName,
    status: a.status,
    message: a.message,
    statusCode: a.response?.statusCode ?? null,
    tries: a.tries,
    nextAttemptAt: a.nextAttemptAt,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

/** Attempt detail: the stored request (headers already redacted) and the capped response; no internal info. */
export function attemptDetailView(a: WebhookAttempt): AttemptDetailResponse {
  return {
    ...attemptSummaryView(a),
    request: a.request
      ? { url: redactUrl(a.request.url), method: a.request.method, headers: { ...a.request.headers }, body: a.request.body, sentAt: a.request.sentAt }
      : null,
    response: a.response
      ? {
          statusCode: a.response.statusCode,
          reason: a.response.reason,
          headers: { ...a.response.headers },
          body: a.response.body,
          truncated: a.response.truncated,
          elapsedMs: Math.round(a.response.elapsedMs),
        }
      : null,
    history: a.history.map((t) => ({ ...t, elapsedMs: Math.round(t.elapsedMs) })),
  };
}
