/**
 * Contracts for replacing a part of nest-webhooks: the store, the delivery queue, the HTTP transport, the clock,
 * dialects and access rules; and the types those contracts speak in. Provide a replacement through
 * `WebhooksModule.forRoot(options, { providers: [{ provide: WebhookStore, useClass: MyStore }] })` or the
 * `delivery.transport` option.
 */

// Module internals a replacement may inject
export { WEBHOOKS_OPTIONS, STANDARD_DIALECT } from './core/webhooks.constants.js';
export type { ResolvedWebhooksOptions } from './core/webhooks.options.js';
export type { WebhooksModuleExtras } from './webhooks.module-definition.js';
export { WebhookClock } from './core/clock.js';
export type { WebhookOperationProgress, WebhookProgressListener } from './core/operation-progress.js';
export { WebhookEventPublisher, type WebhookEventObserver } from './core/webhook-event-publisher.js';

// Storage
export {
  WebhookStore,
  type AttemptClaim,
  type AttemptCounts,
  type AttemptQuery,
  type AttemptSearch,
  type AttemptTryResult,
  type ClaimOptions,
  type EndpointLease,
  type OutboxStats,
  type OutboxWrite,
  type OutboxWriteResult,
  type StoredSigningSecret,
  type StoreSignal,
  type StoreWriteContext,
  type SubscriptionChanges,
  type SubscriptionCredentials,
  type SubscriptionPatch,
  type SubscriptionCounts,
  type SubscriptionPosition,
  type SubscriptionQuery,
  type SubscriptionUpdateOptions,
} from './storage/webhook-store.js';
export { MemoryWebhookStore } from './storage/memory/memory-webhook.store.js';

// Delivery queue
export { WebhookDeliveryQueue, type WebhookDeliveryQueueStats, type WebhookDeliveryConsumer } from './send/queue/webhook-delivery.queue.js';
export type { WebhookShipment, WebhookDelivery, PublishedWebhookEvent } from './core/webhook-shipment.js';

// HTTP transport
export {
  WebhookTransport,
  WebhookTransportError,
  type WebhookTransportErrorCode,
  type WebhookTransportRequest,
  type WebhookTransportResponse,
  type WebhookTransportLimits,
} from './send/transport/webhook-transport.js';
export type { ValidatedWebhookTarget } from './destinations/webhook-destination.validator.js';
export type { DestinationErrorCode } from './destinations/destination.errors.js';
export { redactUrl, redactHeaders } from './send/redaction.js';
export { RESERVED_HEADER_NAMES, RESERVED_HEADER_PREFIXES } from './subscriptions/outgoing-headers.js';

// Dialects and payloads
export { WebhookDialectRegistry } from './dialects/webhook-dialect.registry.js';
export type { WebhookExternalizeContext, WebhookRequestContext, PreparedWebhookRequest } from './dialects/webhook-dialect.js';
export type { StandardWebhookDialectOptions, WebhookTimestampFormat } from './dialects/standard.dialect.js';
export type { WebhookPayloadSource, WebhookSerializationContext } from './payloads/webhook-payload-serializer.js';

// Scopes and resources
export { WebhookScopeResolver } from './matching/webhook-scopes.js';
export { WebhookResourceDiscriminator } from './subscriptions/resource-subscriptions.js';
export type { EventScopes } from './core/webhook-shipment.js';

// Access and authorization
export { OwnerWebhookAccessPolicy, type WebhookAccessAction } from './access/webhook-access.policy.js';

// Model details
export type { WebhookSubscriptionWithSecret, WebhookPayloadTypeRef } from './core/webhook-subscription.js';
export type { WebhookAttemptStatus, WebhookAttemptRequest, WebhookAttemptResponse, WebhookAttemptTry } from './core/webhook-attempt.js';
export type { WebhookDeactivationReason } from './core/webhook-events.js';
