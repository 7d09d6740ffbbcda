import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Which worker sends to an endpoint (scheme, host and port) now (table `webhook_endpoint_lease`). One worker at a
 * time, so `perEndpointConcurrency` holds for all processes together.
 */
@Entity({ name: 'webhook_endpoint_lease' })
export class WebhookEndpointLeaseEntity {
  @PrimaryColumn({ type: 'varchar', length: 300 })
  endpoint!: string;

  @Column({ name: 'worker_id', type: 'varchar', length: 128 })
  workerId!: string;

  @Column({ name: 'expires_at', type: 'bigint' })
  expiresAt!: string | number;
}
