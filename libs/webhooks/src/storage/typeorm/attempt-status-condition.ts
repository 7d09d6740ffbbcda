import { type FindOperator, Raw } from 'typeorm';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';

/**
 * A subscription's attempts of one status. On SQLite the condition steers the planner: for a resolved status it
 * also says `status <> 'pending'` literally (the predicate of idx_webhook_attempt_resolved), and for `pending` it
 * reads `+status` (so the due index, led by the status, is not walked through every subscription's pending
 * attempts). PostgreSQL plans from its statistics and gets the plain condition.
 */
export function statusIs(status: WebhookAttempt['status'], sqlite: boolean): FindOperator<WebhookAttempt['status']> | WebhookAttempt['status'] {
  if (!sqlite) return status;
  if (status === 'pending') return Raw((column) => `+${column} = 'pending'`);
  return Raw((column) => `(${column} = :status AND ${column} <> 'pending')`, { status });
}
