/**
 * TypeORM storage (`storage: { type: 'typeorm' }`): the tables to list in your DataSource and the migrations that
 * create them. Needs the `typeorm` package and a driver (`better-sqlite3` or `pg`).
 */
export { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS, WebhookAttemptEntity, WebhookSubscriptionEntity } from './storage/typeorm/index.js';
export { runMigrationsExclusively } from './storage/typeorm/run-migrations-exclusively.js';
