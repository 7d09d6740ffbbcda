import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

export class CreateExampleOrders1764300100000 implements MigrationInterface {
  name = 'CreateExampleOrders1764300100000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const timestamp = queryRunner.connection.options.type === 'postgres' ? 'timestamptz' : 'datetime';
    await queryRunner.createTable(
      new Table({
        name: 'example_order',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'owner_id', type: 'varchar', length: '200' },
          { name: 'item', type: 'varchar', length: '200' },
          { name: 'quantity', type: 'integer' },
          { name: 'created_at', type: timestamp, default: 'CURRENT_TIMESTAMP' },
          { name: 'updated_at', type: timestamp, default: 'CURRENT_TIMESTAMP' },
        ],
        indices: [new TableIndex({ name: 'idx_example_order_owner', columnNames: ['owner_id'] })],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('example_order');
  }
}
