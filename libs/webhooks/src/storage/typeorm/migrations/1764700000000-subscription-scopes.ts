import { type MigrationInterface, type QueryRunner, TableColumn, TableIndex } from 'typeorm';

const SCOPE_INDEX = new TableIndex({ name: 'idx_webhook_subscription_scope', columnNames: ['scope'] });

/** `webhook_subscription.scope`: where a subscription lives (`null`: global), indexed for `list({ scope })`. */
export class SubscriptionScopes1764700000000 implements MigrationInterface {
  name = 'SubscriptionScopes1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn('webhook_subscription', new TableColumn({ name: 'scope', type: 'varchar', length: '1024', isNullable: true }));
    await queryRunner.createIndex('webhook_subscription', SCOPE_INDEX);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('webhook_subscription', SCOPE_INDEX.name!);
    await queryRunner.dropColumn('webhook_subscription', 'scope');
  }
}
