import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

const SCOPE_INDEX = new TableIndex({ name: 'idx_webhook_subscription_scope', columnNames: ['scope'] });
const DECLARED_INDEX = new TableIndex({ name: 'idx_webhook_subscription_declared', columnNames: ['declared_key'] });

/**
 * Columns of `webhook_subscription`: `scope`, where a subscription lives (`null`: global), indexed for
 * `list({ scope })`; `attempt_limit` and `precondition_failure_limit`, its own limits (`null`: the module's);
 * `declared_key`, the declaration a declared subscription was created for. And `webhook_declaration`, one row:
 * the generation and the declaration keys of the last sync.
 */
export class ScopesLimitsDeclarations1764700000000 implements MigrationInterface {
  name = 'ScopesLimitsDeclarations1764700000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('webhook_subscription', [
      new TableColumn({ name: 'scope', type: 'varchar', length: '1024', isNullable: true }),
      new TableColumn({ name: 'attempt_limit', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'precondition_failure_limit', type: 'integer', isNullable: true }),
      new TableColumn({ name: 'declared_key', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await queryRunner.createIndex('webhook_subscription', SCOPE_INDEX);
    await queryRunner.createIndex('webhook_subscription', DECLARED_INDEX);
    await queryRunner.createTable(
      new Table({
        name: 'webhook_declaration',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'generation', type: 'bigint', default: 0 },
          { name: 'keys', type: 'text' },
        ],
      }),
    );
    await queryRunner.query("INSERT INTO webhook_declaration (id, generation, keys) VALUES (1, 0, '[]')");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('webhook_declaration');
    await queryRunner.dropIndex('webhook_subscription', DECLARED_INDEX.name!);
    await queryRunner.dropIndex('webhook_subscription', SCOPE_INDEX.name!);
    await queryRunner.dropColumns('webhook_subscription', ['declared_key', 'precondition_failure_limit', 'attempt_limit', 'scope']);
  }
}
