import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis, jsonWithDates } from '../column-transformers.js';

/** A stored subscription (table `webhook_subscription`). Its signing secrets are kept encrypted in `secrets`. */
@Entity({ name: 'webhook_subscription' })
export class WebhookSubscriptionEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 2048 })
  url!: string;

  @Column({ type: 'text', transformer: jsonWithDates([]) })
  events!: string[];

  @Column({ name: 'payload_type', type: 'varchar', length: 200, nullable: true })
  payloadType!: string | null;

  @Index('idx_webhook_subscription_scope')
  @Column({ type: 'varchar', length: 1024, nullable: true })
  scope!: string | null;

  @Index('idx_webhook_subscription_owner')
  @Column({ name: 'owner_id', type: 'varchar', length: 200, nullable: true })
  ownerId!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  permission!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  dialect!: string | null;

  @Column({ type: 'boolean' })
  active!: boolean;

  @Column({ name: 'status_message', type: 'varchar', length: 500 })
  statusMessage!: string;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text', transformer: jsonWithDates([]) })
  metadata!: Record<string, string>;

  /** Names of subscription-defined headers; their values are sealed with the secrets. */
  @Column({ name: 'header_names', type: 'text', transformer: jsonWithDates([]) })
  headerNames!: string[];

  @Column({ name: 'retry_schedule', type: 'text', nullable: true, transformer: jsonWithDates([]) })
  retrySchedule!: number[] | null;

  /** The declaration a declared subscription was created for (`forRoot({ declaredSubscriptions })`), or null. */
  @Index('idx_webhook_subscription_declared')
  @Column({ name: 'declared_key', type: 'varchar', length: 64, nullable: true })
  declaredKey!: string | null;

  @Column({ name: 'attempt_limit', type: 'integer', nullable: true })
  attemptLimit!: number | null;

  @Column({ name: 'precondition_failure_limit', type: 'integer', nullable: true })
  preconditionFailureLimit!: number | null;

  @Column({ name: 'precondition_failures', type: 'integer', default: 0 })
  preconditionFailures!: number;

  @Column({ name: 'failing_since', type: 'bigint', nullable: true, transformer: epochMillis })
  failingSince!: Date | null;

  /** The registry version of the subscription's last change (see `WebhookRegistryEntity`). */
  @Index('idx_webhook_subscription_revision')
  @Column({ type: 'bigint', default: 0, transformer: { to: (v: number) => v, from: (v: string | number) => Number(v) } })
  revision!: number;

  /** AES-256-GCM ciphertext of the signing secrets and header values (see `SecretCipher`). */
  @Column({ type: 'text' })
  secrets!: string;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMillis })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMillis })
  updatedAt!: Date;
}
