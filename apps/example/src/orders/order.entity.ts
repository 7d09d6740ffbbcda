import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import { WebhookPayload, type WebhookPayloadSource } from '@app/webhooks';

/** The demo domain: an order belongs to the owner (API key) that placed it. */
@WebhookPayload('Order')
@Entity({ name: 'example_order' })
export class Order implements WebhookPayloadSource {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index()
  @Column({ name: 'owner_id', type: 'varchar', length: 200 })
  ownerId!: string;

  @Column({ type: 'varchar', length: 200 })
  item!: string;

  @Column({ type: 'integer' })
  quantity!: number;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;

  /** What a webhook carries for an order (the library calls this when it externalizes the event). */
  toWebhookPayload(): unknown {
    return { id: this.id, item: this.item, quantity: this.quantity, createdAt: this.createdAt, updatedAt: this.updatedAt };
  }
}
