import type { AttemptTryResult } from '../storage/webhook-store.js';
import type { WebhookAttempt } from './webhook-attempt.js';

/** The attempt after one more try: what every store writes back (only onto a still-pending attempt). */
export function applyTry(current: WebhookAttempt, result: AttemptTryResult, now: Date): WebhookAttempt {
  return {
    ...current,
    status: result.status,
    message: result.message,
    request: result.request ?? current.request,
    response: result.response,
    tries: current.tries + 1,
    history: [...current.history, result.try],
    nextAttemptAt: result.status === 'pending' ? result.nextAttemptAt : null,
    internal: result.exception
      ? { ...current.internal, exceptionHistory: [...current.internal.exceptionHistory, result.exception] }
      : current.internal,
    updatedAt: now,
  };
}
