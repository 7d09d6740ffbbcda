import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

const SCOPE_INDEX = new TableIndex({ name: 'idx_webhook_subscription_scope', columnNames: ['scope'] });

/**
 * Columns of `webhook_subscription`: `scope`, where a subscription lives (`null`: global), indexed for
 * `list({ scope })`; `attempt_limit` and `precondition_failure_limit`, its own limits (`null`: the module's).
 */
export class SubscriptionScopesAndLimits1764700000000 implements MigrationInterface {
  name = 'SubscriptionScopesAndLimits1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('webhook_subscription', [
      new TableColumn({ name: 'scope', type: 'varchar', length: '1024', isNullable: true }),
      new TableColumn({ name: 'attempt_limit', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'precondition_failure_limit', type: 'integer', isNullable: true }),
    ]);
    await queryRunner.createIndex('webhook_subscription', SCOPE_INDEX);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('webhook_subscription', SCOPE_INDEX.name!);
    await queryRunner.dropColumns('webhook_subscription', ['precondition_failure_limit', 'attempt_limit', 'scope']);
  }
}
