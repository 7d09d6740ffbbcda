import { type MigrationInterface, type QueryRunner, TableIndex, type TableIndexOptions } from 'typeorm';

const DUE_INDEX: TableIndexOptions = { name: 'idx_webhook_attempt_due', columnNames: ['status', 'next_attempt_at'] };
const IDEMPOTENCY_INDEX: TableIndexOptions = {
  name: 'uq_webhook_attempt_idempotency',
  columnNames: ['subscription_id', 'idempotency_key'],
  isUnique: true,
};

/**
 * Makes two `webhook_attempt` indexes partial, so attempt writes stop maintaining entries that nothing looks up:
 * `idx_webhook_attempt_due` keeps only pending attempts (the rows claims look for, not the resolved history) and
 * `uq_webhook_attempt_idempotency` only keyed attempts (NULL keys never conflicted, so uniqueness is unchanged).
 * The predicates are the entity's `@Index` `where` options, written the same on SQLite and PostgreSQL.
 */
export class PartialAttemptIndexes1764400000000 implements MigrationInterface {
  name = 'PartialAttemptIndexes1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await replaceIndex(queryRunner, new TableIndex({ ...DUE_INDEX, where: "status = 'pending'" }));
    await replaceIndex(queryRunner, new TableIndex({ ...IDEMPOTENCY_INDEX, where: 'idempotency_key IS NOT NULL' }));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await replaceIndex(queryRunner, new TableIndex(DUE_INDEX));
    await replaceIndex(queryRunner, new TableIndex(IDEMPOTENCY_INDEX));
  }
}

/** Drops the `webhook_attempt` index of that name and creates it again as given (the name stays). */
async function replaceIndex(queryRunner: QueryRunner, index: TableIndex): Promise<void> {
  await queryRunner.dropIndex('webhook_attempt', index.name!);
  await queryRunner.createIndex('webhook_attempt', index);
}
