import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

const SUBSCRIPTION_STATUS_INDEX = new TableIndex({
  name: 'idx_webhook_attempt_subscription_status',
  columnNames: ['subscription_id', 'status', 'id'],
});
const RESOLVED_INDEX = new TableIndex({
  name: 'idx_webhook_attempt_resolved',
  columnNames: ['subscription_id', 'id'],
  where: "status <> 'pending'",
});

/**
 * Replaces `(subscription_id, status, id)` with a partial `(subscription_id, id)` of the resolved attempts. The
 * history rule reads only resolved attempts (it keeps the newest `attemptLimit` of them), and the full index
 * cost every attempt an index entry when it was created and a second write when it resolved (its status is
 * part of the key); the partial one gets one entry, when the attempt resolves. Pending attempts of a subscription
 * are found through `idx_webhook_attempt_subscription` (a subscription's resolved attempts are bounded by the
 * history limit, so skipping them costs little); the store's queries for resolved attempts say
 * `status <> 'pending'` literally, which is what lets SQLite use a partial index.
 */
export class ResolvedAttemptIndex1764500000000 implements MigrationInterface {
  name = 'ResolvedAttemptIndex1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('webhook_attempt', RESOLVED_INDEX);
    await queryRunner.dropIndex('webhook_attempt', SUBSCRIPTION_STATUS_INDEX.name!);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex('webhook_attempt', SUBSCRIPTION_STATUS_INDEX);
    await queryRunner.dropIndex('webhook_attempt', RESOLVED_INDEX.name!);
  }
}
