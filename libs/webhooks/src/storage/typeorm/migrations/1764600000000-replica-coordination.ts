import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

const DUE_INDEX = { name: 'idx_webhook_attempt_due', where: "status = 'pending'" };

/**
 * What several processes on one database need to agree (SQLite and PostgreSQL):
 * - `webhook_registry`: the registry version, raised by every subscription change in its own transaction;
 * - `webhook_subscription.revision`: the version of a subscription's last change, so a process reads only what
 *   changed since the version it has;
 * - `webhook_subscription_tombstone`: deleted subscriptions, for the same reason;
 * - `webhook_endpoint_lease`: the one worker that sends to an endpoint at a time;
 * - `webhook_attempt.claimable_at`: when a worker may claim an attempt (its due time, or the end of the lease of the
 *   worker that holds it), and the due index on it and the id: claims read only claimable attempts, never walking past
 *   the ones workers hold, in creation order among attempts due the same millisecond.
 */
export class ReplicaCoordination1764600000000 implements MigrationInterface {
  name = 'ReplicaCoordination1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'webhook_registry',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'version', type: 'bigint', default: 0 },
          { name: 'pruned_through', type: 'bigint', default: 0 },
        ],
      }),
    );
    await queryRunner.query('INSERT INTO webhook_registry (id, version, pruned_through) VALUES (1, 0, 0)');
    // Plain ALTER TABLE on both databases (TypeORM would rebuild the SQLite table to add a column).
    await queryRunner.query('ALTER TABLE webhook_subscription ADD COLUMN revision bigint NOT NULL DEFAULT 0');
    await queryRunner.createIndex('webhook_subscription', new TableIndex({ name: 'idx_webhook_subscription_revision', columnNames: ['revision'] }));
    await queryRunner.createTable(
      new Table({
        name: 'webhook_subscription_tombstone',
        columns: [
          { name: 'subscription_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'revision', type: 'bigint' },
        ],
        indices: [new TableIndex({ name: 'idx_webhook_subscription_tombstone_revision', columnNames: ['revision'] })],
      }),
    );
    await queryRunner.query('ALTER TABLE webhook_attempt ADD COLUMN claimable_at bigint NULL');
    await queryRunner.query(
      "UPDATE webhook_attempt SET claimable_at = CASE WHEN lease_owner IS NULL THEN next_attempt_at ELSE lease_expires_at END WHERE status = 'pending'",
    );
    await queryRunner.dropIndex('webhook_attempt', DUE_INDEX.name);
    await queryRunner.createIndex('webhook_attempt', new TableIndex({ ...DUE_INDEX, columnNames: ['status', 'claimable_at', 'id'] }));
    await queryRunner.createTable(
      new Table({
        name: 'webhook_endpoint_lease',
        columns: [
          { name: 'endpoint', type: 'varchar', length: '300', isPrimary: true },
          { name: 'worker_id', type: 'varchar', length: '128' },
          { name: 'expires_at', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_endpoint_lease');
    await queryRunner.dropIndex('webhook_attempt', DUE_INDEX.name);
    await queryRunner.createIndex('webhook_attempt', new TableIndex({ ...DUE_INDEX, columnNames: ['status', 'next_attempt_at'] }));
    await queryRunner.query('ALTER TABLE webhook_attempt DROP COLUMN claimable_at');
    await queryRunner.dropTable('webhook_subscription_tombstone');
    await queryRunner.dropIndex('webhook_subscription', 'idx_webhook_subscription_revision');
    await queryRunner.query('ALTER TABLE webhook_subscription DROP COLUMN revision');
    await queryRunner.dropTable('webhook_registry');
  }
}
