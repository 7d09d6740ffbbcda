// Module and options
export { WebhooksModule } from './webhooks.module.js';
export type { WebhooksModuleExtras } from './webhooks.module-definition.js';
export type { WebhooksModuleOptions, ResolvedWebhooksOptions } from './webhooks.options.js';
export { WebhooksConfigurationError } from './webhooks-options.resolver.js';
export {
  WEBHOOKS_OPTIONS,
  STANDARD_DIALECT,
  WebhookEvents,
  SubscriptionStatusMessages,
  AttemptMessages,
} from './webhooks.constants.js';
export { WebhookClock } from './clock.js';

// Subscriptions
export { WebhookSubscriptionManager, CANCELLED_ATTEMPT_MESSAGE } from './subscriptions/webhook-subscription.manager.js';
export type { WebhookSubscription, WebhookSubscriptionWithSecret, WebhookPayloadTypeRef } from './subscriptions/webhook-subscription.js';
export type {
  CreateWebhookSubscriptionInput,
  UpdateWebhookSubscriptionInput,
  StaticWebhookSubscription,
} from './subscriptions/subscription-input.js';
export {
  InvalidWebhookSubscriptionError,
  WebhookRegistryConflictError,
  WebhookRegistryLockTimeoutError,
  WebhookSubscriptionNotFoundError,
  WebhookSubscriptionOperationError,
} from './subscriptions/subscription.errors.js';

// Publishing and authorization
export { WebhookPublisher, type WebhookPublishOptions } from './dispatch/webhook-publisher.js';
export { WebhookAuthorizer, WebhookAuthorization, type WebhookAuthorizationRequest } from './dispatch/webhook-authorizer.js';

// Access to subscriptions and attempts
export {
  WebhookAccessPolicy,
  OwnerWebhookAccessPolicy,
  type WebhookAccessAction,
  type WebhookPrincipal,
} from './access/webhook-access.policy.js';

// Payloads and dialects
export { WebhookPayload } from './payloads/webhook-payload.decorator.js';
export type { WebhookPayloadSerializer, WebhookPayloadSource, WebhookSerializationContext } from './payloads/webhook-payload-serializer.js';
export { WebhookDialectRegistry, UnknownWebhookDialectError } from './dialects/webhook-dialect.registry.js';
export { WebhookDialectProvider } from './dialects/webhook-dialect.decorator.js';
export { StandardWebhookDialect } from './dialects/standard.dialect.js';
export type { WebhookDialect, WebhookExternalizeContext, WebhookRequestContext, PreparedWebhookRequest } from './dialects/webhook-dialect.js';

// Destinations
export { WebhookDestinationValidator, type ValidatedWebhookTarget } from './destinations/webhook-destination.validator.js';
export { WebhookDestinationError, type DestinationErrorCode } from './destinations/destination.errors.js';

// Delivery and attempts
export {
  WebhookDeliveryManager,
  EXTERNALIZATION_FAILED_MESSAGE,
  PAYLOAD_TOO_LARGE_MESSAGE,
  WebhookAttemptNotFoundError,
  WebhookDeliveryTimeoutError,
  PayloadTooLargeError,
} from './delivery/webhook-delivery.manager.js';
export type { WebhookShipment, WebhookDelivery, PublishedWebhookEvent } from './delivery/webhook-shipment.js';
export { WebhookDeliveryQueue, type WebhookDeliveryQueueStats, type WebhookDeliveryConsumer } from './delivery/queue/webhook-delivery.queue.js';
export { redactUrl as redactWebhookUrl, redactHeaders as redactWebhookHeaders } from './delivery/redaction.js';
export {
  WebhookTransport,
  WebhookTransportError,
  type WebhookTransportRequest,
  type WebhookTransportResponse,
  type WebhookTransportLimits,
} from './delivery/transport/webhook-transport.js';
export type {
  WebhookAttempt,
  WebhookAttemptStatus,
  WebhookAttemptRequest,
  WebhookAttemptResponse,
  WebhookAttemptTry,
} from './attempts/webhook-attempt.js';
export {
  WebhookAttemptResolvedEvent,
  WebhookSubscriptionEvent,
  WebhookSubscriptionDeactivatedEvent,
  WebhookPreconditionFailureLimitReachedEvent,
  type WebhookDeactivationReason,
} from './events/webhook-events.js';

// Storage
export { WebhookStore } from './storage/webhook-store.js';
export { WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS, WebhookAttemptEntity, WebhookSubscriptionEntity } from './storage/typeorm/index.js';
export { runMigrationsExclusively } from './storage/typeorm/run-migrations-exclusively.js';
