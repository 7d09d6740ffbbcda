import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A deleted subscription (table `webhook_subscription_tombstone`): how other processes learn of the delete. */
@Entity({ name: 'webhook_subscription_tombstone' })
export class WebhookSubscriptionTombstoneEntity {
  @PrimaryColumn({ name: 'subscription_id', type: 'varchar', length: 64 })
  subscriptionId!: string;

  /** The registry version of the delete. */
  @Index('idx_webhook_subscription_tombstone_revision')
  @Column({ type: 'bigint' })
  revision!: string | number;
}
