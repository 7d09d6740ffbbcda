import { WebhookAttemptEntity } from './entities/webhook-attempt.entity.js';
import { WebhookDeclarationEntity } from './entities/webhook-declaration.entity.js';
import { WebhookEndpointLeaseEntity } from './entities/webhook-endpoint-lease.entity.js';
import { WebhookRegistryEntity } from './entities/webhook-registry.entity.js';
import { WebhookSubscriptionTombstoneEntity } from './entities/webhook-subscription-tombstone.entity.js';
import { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';
import { CreateWebhookTables1764300000000 } from './migrations/1764300000000-create-webhook-tables.js';
import { PartialAttemptIndexes1764400000000 } from './migrations/1764400000000-partial-attempt-indexes.js';
import { ResolvedAttemptIndex1764500000000 } from './migrations/1764500000000-resolved-attempt-index.js';
import { ReplicaCoordination1764600000000 } from './migrations/1764600000000-replica-coordination.js';
import { ScopesLimitsDeclarations1764700000000 } from './migrations/1764700000000-scopes-limits-declarations.js';

/** The library's entities: list them in your DataSource (or use `autoLoadEntities` with `TypeOrmModule.forFeature`). */
export const WEBHOOK_ENTITIES = [
  WebhookSubscriptionEntity,
  WebhookAttemptEntity,
  WebhookRegistryEntity,
  WebhookSubscriptionTombstoneEntity,
  WebhookEndpointLeaseEntity,
  WebhookDeclarationEntity,
];

/** The library's migrations, oldest first: add them to your DataSource's `migrations`. */
export const WEBHOOK_MIGRATIONS = [
  CreateWebhookTables1764300000000,
  PartialAttemptIndexes1764400000000,
  ResolvedAttemptIndex1764500000000,
  ReplicaCoordination1764600000000,
  ScopesLimitsDeclarations1764700000000,
];

export { WebhookAttemptEntity, WebhookSubscriptionEntity };
