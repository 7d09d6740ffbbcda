import { Injectable } from '@nestjs/common';
import type { WebhookEntityManager } from '../core/webhook-entity-manager.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import { WebhookClock } from '../core/clock.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import { WebhookTransactions } from './webhook-transactions.js';
import type { EventScopes } from '../core/webhook-shipment.js';
import { WebhookScopes } from '../matching/webhook-scopes.js';
import { WebhookDispatcher } from './webhook-dispatcher.js';

function checkIdempotencyKey(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200) {
    throw new TypeError('publish(): idempotencyKey must be a string of 1-200 characters');
  }
  return key;
}

/** Options of `WebhookPublisher.publish`. */
export interface WebhookPublishOptions {
  /**
   * A transactional TypeORM `EntityManager`: the attempts are written in its transaction and sent after it commits; a
   * rollback sends nothing. Defaults to the active `@Transactional()` transaction, if any.
   */
  manager?: WebhookEntityManager;
  /** Kept in each attempt's internal info (`nti.webhooks`: the transaction note, such as a request path). */
  note?: string;
  /** When the event happened. @default now */
  occurredAt?: Date;
  /**
   * Publishing the same key twice creates one attempt per subscription (the second is an idempotency hit),
   * while the first attempt is kept in the history. Use the application's own event or request id.
   */
  idempotencyKey?: string;
  /** The current scope for this event instead of the caller's (`WebhookScopes`); `null` publishes unscoped. */
  scope?: string | null;
}

/**
 * Explicit, transaction-bound publishing: the alternative to `EventEmitter2.emit` when the caller wants to
 * pass an `EntityManager`, await phase 1, or get an error for an oversized payload.
 *
 * @example
 * await dataSource.transaction(async (manager) => {
 *   const order = await manager.save(Order, input);
 *   await webhooks.publish('order.created', order, { manager });
 * });
 */
@Injectable()
export class WebhookPublisher {
  constructor(
    private readonly dispatcher: WebhookDispatcher,
    private readonly transactions: WebhookTransactions,
    private readonly clock: WebhookClock,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly scopes: WebhookScopes,
  ) {}

  /**
   * Sends an event to one subscription, bypassing matching and the authorizer (for "send a test event" and
   * operator tools). The subscription must be active. Returns the attempt.
   */
  async publishTo(subscriptionId: string, eventName: string, payload: unknown, options: Omit<WebhookPublishOptions, 'manager'> = {}): Promise<WebhookAttempt> {
    const subscription = await this.subscriptions.require(subscriptionId);
    if (!subscription.active) throw new WebhookSubscriptionOperationError(`Subscription "${subscriptionId}" is not active`);
    return this.dispatcher.publishTo(subscriptionId, {
      name: eventName,
      payload,
      occurredAt: options.occurredAt ?? this.clock.now(),
      note: options.note ?? null,
    });
  }

  /**
   * Publishes `payload` as `eventName` to every applicable subscription. Throws `PayloadTooLargeError` (before
   * anything is written) when the externalized payload is over `delivery.maxPayloadBytes`. Returns the
   * attempts written now; when the work waits for a commit of another database, the list is empty.
   */
  publish(eventName: string, payload: unknown, options: WebhookPublishOptions = {}): Promise<WebhookAttempt[]> {
    if (typeof eventName !== 'string' || eventName.length === 0) {
      return Promise.reject(new TypeError('publish(eventName, payload): eventName must be a non-empty string'));
    }
    let idempotencyKey: string | null;
    let scopes: EventScopes;
    try {
      idempotencyKey = checkIdempotencyKey(options.idempotencyKey);
      scopes = this.scopes.ofEvent(payload, options.scope);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.dispatcher.publish(
      {
        name: eventName,
        payload,
        occurredAt: options.occurredAt ?? this.clock.now(),
        note: options.note ?? null,
        idempotencyKey,
        scopes,
      },
      options.manager ?? this.transactions.current() ?? undefined,
    );
  }
}
