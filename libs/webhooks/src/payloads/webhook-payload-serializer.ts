import type { Type } from '@nestjs/common';

/** What a serializer is told about the delivery it serializes for. */
export interface WebhookSerializationContext {
  eventName: string;
  dialect: string;
}

/**
 * Says what is sent for payloads of a type (`nti.webhooks`: the payload adapters). Return `undefined` to pass the decision
 * to the next candidate in priority order.
 */
export interface WebhookPayloadSerializer<T = any> {
  /** A class (subclasses match too) or a name registered with `@WebhookPayload`. */
  type: Type<T> | string;
  /** Only for events matching this pattern. @default undefined (any event) */
  event?: string;
  /** Only for this dialect. @default undefined (every dialect) */
  dialect?: string;
  serialize(payload: T, context: WebhookSerializationContext): unknown;
}

/**
 * A payload class can decide what it sends by implementing this method (`nti.webhooks`: an object that provides
 * `IWebhookPayload` is sent as itself).
 */
export interface WebhookPayloadSource {
  toWebhookPayload(context: WebhookSerializationContext): unknown;
}
