import { Inject, Injectable, Logger } from '@nestjs/common';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import { WebhookOwnerRemovalFailedEvent } from '../core/webhook-events.js';
import { WEBHOOKS_OPTIONS, WebhookEvents } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { lineage } from '../matching/scope-lineage.js';
import { WebhookScopes } from '../matching/webhook-scopes.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { WebhookShipments } from './webhook-shipments.js';

/** The default way to read an owner id from an owner-removal event: the payload itself, or its `id`. */
function defaultOwnerId(payload: unknown): string | null {
  if (typeof payload === 'string') return payload;
  const id = (payload as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/**
 * Deletes a removed principal's subscriptions when the application announces the removal (`ownerRemoval.event`,
 * `nti.webhooks`' principal-removal subscriber): all of them, or with `reach: 'lineage'` the global ones and those
 * of the current scope, the principal's own scope and their ancestors.
 */
@Injectable()
export class OwnerRemoval {
  private readonly logger = new Logger('WebhookOwnerRemoval');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly scopes: WebhookScopes,
    private readonly shipments: WebhookShipments,
    private readonly events: WebhookEventPublisher,
  ) {}

  /** Whether `eventName` announces a removal. */
  handles(eventName: string): boolean {
    return eventName === this.options.ownerRemoval.event;
  }

  /** Called inside `emit()`, so the current scope is the emitting code's. */
  onRemoved(payload: unknown): void {
    const { event, payloadType, ownerId: readOwnerId, reach, scopes: extraScopes } = this.options.ownerRemoval;
    if (payloadType && !(payload instanceof payloadType)) return;
    const ownerId = (readOwnerId ?? defaultOwnerId)(payload);
    if (typeof ownerId !== 'string' || ownerId.length === 0) {
      this.logger.error(`${event} carried no owner id; no subscriptions removed`);
      this.events.emit(WebhookEvents.OwnerRemovalFailed, new WebhookOwnerRemovalFailedEvent(event!, 'no-owner-id', payload));
      return;
    }
    if (reach === 'all') {
      this.shipments.track(this.subscriptions.deleteSubscriptionsForOwner(ownerId));
      return;
    }
    const { current, payload: own } = this.scopes.ofEvent(payload);
    const reached = new Set<string | null>([null]);
    for (const scope of [current, own, ...(extraScopes?.(payload) ?? [])]) if (scope !== null) for (const s of lineage(scope)) reached.add(s);
    this.shipments.track(this.subscriptions.deleteSubscriptionsForOwner(ownerId, (scope) => reached.has(scope)));
  }
}
