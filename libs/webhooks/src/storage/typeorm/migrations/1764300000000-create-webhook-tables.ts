import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/** Creates `webhook_subscription` and `webhook_attempt` (SQLite and PostgreSQL). */
export class CreateWebhookTables1764300000000 implements MigrationInterface {
  name = 'CreateWebhookTables1764300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'webhook_subscription',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'url', type: 'varchar', length: '2048' },
          { name: 'events', type: 'text' },
          { name: 'payload_type', type: 'varchar', length: '200', isNullable: true },
          { name: 'owner_id', type: 'varchar', length: '200', isNullable: true },
          { name: 'permission', type: 'varchar', length: '200', isNullable: true },
          { name: 'dialect', type: 'varchar', length: '64', isNullable: true },
          { name: 'active', type: 'boolean' },
          { name: 'status_message', type: 'varchar', length: '500' },
          { name: 'description', type: 'text', isNullable: true },
          { name: 'metadata', type: 'text' },
          { name: 'header_names', type: 'text' },
          { name: 'retry_schedule', type: 'text', isNullable: true },
          { name: 'precondition_failures', type: 'integer', default: 0 },
          { name: 'failing_since', type: 'bigint', isNullable: true },
          { name: 'secrets', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_webhook_subscription_owner', columnNames: ['owner_id'] })],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'webhook_attempt',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'webhook_id', type: 'varchar', length: '64' },
          { name: 'subscription_id', type: 'varchar', length: '64' },
          { name: 'event_name', type: 'varchar', length: '200' },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'message', type: 'text', isNullable: true },
          { name: 'payload', type: 'text' },
          { name: 'dialect', type: 'varchar', length: '64' },
          { name: 'request', type: 'text', isNullable: true },
          { name: 'response', type: 'text', isNullable: true },
          { name: 'tries', type: 'integer', default: 0 },
          { name: 'history', type: 'text' },
          { name: 'next_attempt_at', type: 'bigint', isNullable: true },
          { name: 'lease_owner', type: 'varchar', length: '128', isNullable: true },
          { name: 'lease_expires_at', type: 'bigint', isNullable: true },
          { name: 'idempotency_key', type: 'varchar', length: '200', isNullable: true },
          { name: 'internal', type: 'text' },
          { name: 'created_at', type: 'bigint' },
          { name: 'updated_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'idx_webhook_attempt_due', columnNames: ['status', 'next_attempt_at'] }),
          new TableIndex({ name: 'idx_webhook_attempt_subscription', columnNames: ['subscription_id', 'id'] }),
          // History checks count one status of one subscription and keep the newest resolved ids.
          new TableIndex({ name: 'idx_webhook_attempt_subscription_status', columnNames: ['subscription_id', 'status', 'id'] }),
          new TableIndex({ name: 'uq_webhook_attempt_idempotency', columnNames: ['subscription_id', 'idempotency_key'], isUnique: true }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_attempt');
    await queryRunner.dropTable('webhook_subscription');
  }
}
