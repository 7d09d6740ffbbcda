import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * The registry version (table `webhook_registry`, one row with id 1). Every committed subscription change raises
 * it in its own transaction; outbox writes check it in theirs, so an event is matched against the subscriptions
 * as they were when it committed, whichever process changed them.
 */
@Entity({ name: 'webhook_registry' })
export class WebhookRegistryEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  @Column({ type: 'bigint', default: 0 })
  version!: string | number;

  /** Tombstones up to this version were removed: a reader behind it reloads every subscription. */
  @Column({ name: 'pruned_through', type: 'bigint', default: 0 })
  prunedThrough!: string | number;
}
