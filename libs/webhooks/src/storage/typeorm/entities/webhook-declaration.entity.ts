import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The last sync of declared subscriptions (table `webhook_declaration`, one row with id 1). */
@Entity({ name: 'webhook_declaration' })
export class WebhookDeclarationEntity {
  @PrimaryColumn({ type: 'integer' })
  id!: number;

  /** Raised by every sync that changed something. */
  @Column({ type: 'bigint', default: 0 })
  generation!: string | number;

  /** The declaration keys of that sync, as JSON. */
  @Column({ type: 'text' })
  keys!: string;
}
