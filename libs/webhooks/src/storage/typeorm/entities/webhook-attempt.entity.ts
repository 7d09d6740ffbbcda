import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type {
  WebhookAttemptInternalInfo,
  WebhookAttemptRequest,
  WebhookAttemptResponse,
  WebhookAttemptStatus,
  WebhookAttemptTry,
} from '../../../core/webhook-attempt.js';
import { attemptJson } from '../attempt-json-columns.js';
import { epochMillis, jsonWithDates } from '../column-transformers.js';

/**
 * A delivery attempt (table `webhook_attempt`): the outbox row. Pending rows with `next_attempt_at` in the
 * past and no live lease are what workers claim.
 */
@Entity({ name: 'webhook_attempt' })
// Partial (migration 1764400000000): only pending attempts are claimed, and only keyed ones can conflict. Claims take
// them in the index's order, claimable time then id (migration 1764600000000), so no later attempt overtakes an earlier
// one, and attempts a worker holds are not in the way.
@Index('idx_webhook_attempt_due', ['status', 'claimableAt', 'id'], { where: "status = 'pending'" })
@Index('idx_webhook_attempt_subscription', ['subscriptionId', 'id'])
// Partial (migration 1764500000000): the history rule reads only resolved attempts, newest first.
@Index('idx_webhook_attempt_resolved', ['subscriptionId', 'id'], { where: "status <> 'pending'" })
@Index('uq_webhook_attempt_idempotency', ['subscriptionId', 'idempotencyKey'], { unique: true, where: 'idempotency_key IS NOT NULL' })
export class WebhookAttemptEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'webhook_id', type: 'varchar', length: 64 })
  webhookId!: string;

  @Column({ name: 'subscription_id', type: 'varchar', length: 64 })
  subscriptionId!: string;

  @Column({ name: 'event_name', type: 'varchar', length: 200 })
  eventName!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: WebhookAttemptStatus;

  @Column({ type: 'text', nullable: true })
  message!: string | null;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'varchar', length: 64 })
  dialect!: string;

  @Column({ type: 'text', nullable: true, transformer: jsonWithDates(['sentAt'], attemptJson.request) })
  request!: WebhookAttemptRequest | null;

  @Column({ type: 'text', nullable: true, transformer: jsonWithDates(['receivedAt'], attemptJson.response) })
  response!: WebhookAttemptResponse | null;

  @Column({ type: 'integer', default: 0 })
  tries!: number;

  @Column({ type: 'text', transformer: jsonWithDates(['startedAt'], attemptJson.history) })
  history!: WebhookAttemptTry[];

  @Column({ name: 'next_attempt_at', type: 'bigint', nullable: true, transformer: epochMillis })
  nextAttemptAt!: Date | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 128, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_expires_at', type: 'bigint', nullable: true })
  leaseExpiresAt!: string | number | null;

  /**
   * When a worker may claim the attempt: its due time while nobody holds it, the end of the lease while a worker
   * does (so claims never walk past held attempts), null once resolved.
   */
  @Column({ name: 'claimable_at', type: 'bigint', nullable: true })
  claimableAt!: string | number | null;

  @Column({ name: 'idempotency_key', type: 'varchar', length: 200, nullable: true })
  idempotencyKey!: string | null;

  @Column({ type: 'text', transformer: jsonWithDates(['createdAt'], attemptJson.internal) })
  internal!: WebhookAttemptInternalInfo;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt!: Date;
}
