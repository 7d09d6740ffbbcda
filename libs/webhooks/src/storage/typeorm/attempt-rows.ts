import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { AttemptClaim } from '../webhook-store.js';
import { attemptJson } from './attempt-json-columns.js';
import type { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';

/** The request record without its body when the body is the attempt's payload (the usual case): stored once. */
export function withoutPayloadBody(a: WebhookAttempt): WebhookAttempt['request'] {
  if (!a.request || a.request.body !== a.payload) return a.request;
  const { body: _body, ...rest } = a.request;
  return rest as WebhookAttempt['request'];
}

/** When a worker may claim a new attempt: at once, or when the lease of the worker it is written for runs out. */
function claimableAt(a: WebhookAttempt, claim: AttemptClaim | undefined): number | null {
  if (a.status !== 'pending') return null;
  return claim ? claim.leaseUntil.getTime() : (a.nextAttemptAt?.getTime() ?? null);
}

/** The values of a `webhook_attempt` insert, in column order, encoded as the entity's column transformers do. */
export function attemptInsertValues(a: WebhookAttempt, claim: AttemptClaim | undefined): unknown[] {
  return [
    a.id,
    a.webhookId,
    a.subscriptionId,
    a.eventName,
    a.status,
    a.message,
    a.payload,
    a.dialect,
    attemptJson.request(withoutPayloadBody(a)),
    attemptJson.response(a.response),
    a.tries,
    attemptJson.history(a.history),
    a.nextAttemptAt?.getTime() ?? null,
    claim?.workerId ?? null,
    claim?.leaseUntil.getTime() ?? null,
    a.idempotencyKey,
    attemptJson.internal(a.internal),
    a.createdAt.getTime(),
    a.updatedAt.getTime(),
    claimableAt(a, claim),
  ];
}

export function attemptEntity(a: WebhookAttempt, claim?: AttemptClaim): WebhookAttemptEntity {
  return {
    id: a.id,
    webhookId: a.webhookId,
    subscriptionId: a.subscriptionId,
    eventName: a.eventName,
    status: a.status,
    message: a.message,
    payload: a.payload,
    dialect: a.dialect,
    request: withoutPayloadBody(a),
    response: a.response,
    tries: a.tries,
    history: [...a.history],
    nextAttemptAt: a.nextAttemptAt,
    leaseOwner: claim?.workerId ?? null,
    leaseExpiresAt: claim?.leaseUntil.getTime() ?? null,
    claimableAt: claimableAt(a, claim),
    idempotencyKey: a.idempotencyKey,
    internal: a.internal,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
  };
}

export function toAttempt(e: WebhookAttemptEntity): WebhookAttempt {
  return Object.freeze({
    id: e.id,
    webhookId: e.webhookId,
    subscriptionId: e.subscriptionId,
    eventName: e.eventName,
    status: e.status,
    message: e.message,
    payload: e.payload,
    dialect: e.dialect,
    request: e.request && e.request.body === undefined ? { ...e.request, body: e.payload } : e.request,
    response: e.response,
    tries: Number(e.tries),
    history: e.history ?? [],
    nextAttemptAt: e.nextAttemptAt,
    idempotencyKey: e.idempotencyKey,
    internal: e.internal,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
  });
}
