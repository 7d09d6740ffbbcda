import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { CreateWebhookTables1764300000000 } from './migrations/1764300000000-create-webhook-tables.js';
import { PartialAttemptIndexes1764400000000 } from './migrations/1764400000000-partial-attempt-indexes.js';
import { ResolvedAttemptIndex1764500000000 } from './migrations/1764500000000-resolved-attempt-index.js';

/** The library's entities: list them in your DataSource (or use `autoLoadEntities` with `TypeOrmModule.forFeature`). */
export const WEBHOOK_ENTITIES = [WebhookSubscriptionEntity, WebhookAttemptEntity];

/** The library's migrations, oldest first: add them to your DataSource's `migrations`. */
export const WEBHOOK_MIGRATIONS = [CreateWebhookTables1764300000000, PartialAttemptIndexes1764400000000, ResolvedAttemptIndex1764500000000];

export { WebhookAttemptEntity, WebhookSubscriptionEntity };
