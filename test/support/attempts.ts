import { newAttemptId } from '../../libs/webhooks/src/core/attempt-id.js';
import type { WebhookAttempt } from '../../libs/webhooks/src/core/webhook-attempt.js';

/** A new pending attempt of `sub_1` created at `createdAt`, as the delivery manager writes one; override any field. */
export function pendingAttempt(createdAt: Date, overrides: Partial<WebhookAttempt> = {}): WebhookAttempt {
  return {
    id: newAttemptId(),
    webhookId: 'msg_1',
    subscriptionId: 'sub_1',
    eventName: 'order.created',
    status: 'pending',
    message: null,
    payload: '{"type":"order.created"}',
    dialect: 'standard',
    request: null,
    response: null,
    tries: 0,
    history: [],
    nextAttemptAt: createdAt,
    idempotencyKey: null,
    internal: { originated: { pid: 1, hostname: 'h', createdAt, note: 'n' }, exceptionHistory: [] },
    createdAt,
    updatedAt: createdAt,
    ...overrides,
  };
}
