/**
 * nest-webhooks: outbound webhooks for NestJS.
 *
 * This entry holds what an application uses: the module, the services it injects, the decorators, the
 * extension points it implements, the events it listens to, the errors it catches and the model it reads.
 * Storage, transport and queue contracts are in `nest-webhooks/extensions`; TypeORM tables and migrations in
 * `nest-webhooks/typeorm`; the axios transport in `nest-webhooks/axios`.
 */

// Module and options
export { WebhooksModule } from './webhooks.module.js';
export type { WebhooksModuleOptions } from './core/webhooks.options.js';
export { WebhooksConfigurationError } from './webhooks-options.resolver.js';
export { WebhookEvents, WebhookMessages } from './core/webhooks.constants.js';

// Services
export { WebhookSubscriptionManager } from './subscriptions/webhook-subscription.manager.js';
export { WebhookPublisher, type WebhookPublishOptions } from './publish/webhook-publisher.js';
export { WebhookDeliveryManager } from './operations/webhook-delivery.manager.js';
export { WebhookDestinationValidator } from './destinations/webhook-destination.validator.js';
export { WebhookScopes } from './matching/webhook-scopes.js';
export { WebhookDeclaredSubscriptions } from './subscriptions/declared-subscriptions.js';

// Decorators
export { WebhookPayload } from './payloads/webhook-payload.decorator.js';
export { WebhookDialectProvider } from './dialects/webhook-dialect.decorator.js';

// Extension points
export { WebhookAuthorizer, WebhookAuthorization, type WebhookAuthorizationRequest } from './access/webhook-authorizer.js';
export { WebhookAccessPolicy, type WebhookPrincipal } from './access/webhook-access.policy.js';
export { StandardWebhookDialect } from './dialects/standard.dialect.js';
export type { WebhookDialect } from './dialects/webhook-dialect.js';
export type { WebhookPayloadSerializer } from './payloads/webhook-payload-serializer.js';

// Events
export {
  WebhookAttemptResolvedEvent,
  WebhookAttemptTriedEvent,
  WebhookSubscriptionEvent,
  WebhookSubscriptionDeactivatedEvent,
  WebhookPreconditionFailureLimitReachedEvent,
  WebhookOwnerRemovalFailedEvent,
  WebhookDeclarationsSyncedEvent,
} from './core/webhook-events.js';

// Errors
export {
  InvalidWebhookSubscriptionError,
  WebhookRegistryConflictError,
  WebhookRegistryLockTimeoutError,
  WebhookSubscriptionNotFoundError,
  WebhookSubscriptionOperationError,
} from './core/subscription.errors.js';
export { WebhookAttemptNotFoundError, WebhookDeliveryTimeoutError, PayloadTooLargeError } from './core/delivery.errors.js';
export { UnknownWebhookDialectError } from './dialects/webhook-dialect.registry.js';
export { WebhookDestinationError } from './destinations/destination.errors.js';

// Model
export type { WebhookSubscription } from './core/webhook-subscription.js';
export type { CreateWebhookSubscriptionInput, UpdateWebhookSubscriptionInput, StaticWebhookSubscription } from './core/subscription-input.js';
export type { WebhookAttempt } from './core/webhook-attempt.js';
