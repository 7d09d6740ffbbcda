import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { WebhookAttempt } from '../attempts/webhook-attempt.js';
import { WebhookClock } from '../clock.js';
import { describeError } from '../delivery/webhook-delivery.worker.js';
import { WebhookDeliveryManager } from '../delivery/webhook-delivery.manager.js';
import type { PublishedWebhookEvent, WebhookDelivery, WebhookShipment } from '../delivery/webhook-shipment.js';
import { eventMatches } from '../matching/event-pattern.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import type { WebhookSubscription } from '../subscriptions/webhook-subscription.js';
import { WebhookTransactions } from '../transactions/webhook-transactions.js';
import { WEBHOOKS_EVENT_PREFIX, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../webhooks.options.js';

const MAX_CACHED_EVENT_NAMES = 10_000;

/**
 * Turns one application event into attempts (seed: the dispatcher plus the transaction's data manager):
 * match the registry, check applicability with the authorizer, then run phase 1 inside the right unit of
 * work and phase 2 after it commits.
 *
 * - Inside a transaction of the store's database: attempts are written by that transaction just before it
 *   commits (so payloads reflect the committed state) and sent after the commit; a rollback leaves nothing.
 * - Inside a transaction of another database (or with the memory store): everything waits for the commit and
 *   is dropped on rollback; atomicity with the business data needs the webhook tables in the same database.
 * - Outside a transaction: it is its own unit of work.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly deliverable = new Map<string, boolean>();
  private soon: Array<{ event: PublishedWebhookEvent; candidates: WebhookSubscription[] }> = [];

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly delivery: WebhookDeliveryManager,
    private readonly transactions: WebhookTransactions,
    private readonly store: WebhookStore,
    private readonly clock: WebhookClock,
  ) {}

  /** Whether an event name may become a webhook (`events.include`/`exclude`; never `webhooks.*`). */
  isDeliverable(eventName: string): boolean {
    let verdict = this.deliverable.get(eventName);
    if (verdict === undefined) {
      const { include, exclude } = this.options.events;
      verdict =
        !eventName.startsWith(WEBHOOKS_EVENT_PREFIX) &&
        include.some((p) => eventMatches(p, eventName)) &&
        !exclude.some((p) => eventMatches(p, eventName));
      if (this.deliverable.size >= MAX_CACHED_EVENT_NAMES) this.deliverable.clear();
      this.deliverable.set(eventName, verdict);
    }
    return verdict;
  }

  /**
   * For the catch-all EventEmitter2 listener: synchronous, cheap when nothing matches, never throws. The
   * asynchronous work is tracked by the delivery manager (or by the transaction it joined).
   */
  onEmitted(eventName: string, payload: unknown): void {
    try {
      if (!this.isDeliverable(eventName)) return;
      const candidates = this.subscriptions.activeSubscriptions(eventName, payload);
      if (candidates.length === 0) return;
      const event: PublishedWebhookEvent = { name: eventName, payload, occurredAt: this.clock.now() };
      const manager = this.transactions.current();
      if (manager && this.enlist(manager, event, candidates)) return;
      this.dispatchSoon(event, candidates);
    } catch (error) {
      this.logger.error(`Dispatching ${eventName} failed: ${describeError(error)}`);
    }
  }

  /**
   * Publishes explicitly (see `WebhookPublisher.publish`). With a transactional `manager` of the store's
   * database the attempts are written now, in that transaction; otherwise as described on the class.
   * Returns the attempts written now (empty when the work waits for a commit).
   */
  async publish(event: PublishedWebhookEvent, manager?: EntityManager): Promise<WebhookAttempt[]> {
    if (!this.isDeliverable(event.name)) return [];
    const candidates = this.subscriptions.activeSubscriptions(event.name, event.payload);
    if (candidates.length === 0) return [];
    if (this.transactions.isActive(manager)) {
      if (!this.store.sharesTransactionsWith(manager)) {
        this.enlist(manager, event, candidates);
        return [];
      }
      const shipment = await this.prepare(event, candidates, manager, true);
      this.transactions.enlist(manager, { afterCommit: () => this.delivery.acceptForDelivery(shipment) });
      return [...shipment.pending, ...shipment.failed];
    }
    const shipment = await this.prepare(event, candidates, undefined, true);
    this.delivery.acceptForDelivery(shipment);
    return [...shipment.pending, ...shipment.failed];
  }

  private enlist(manager: EntityManager, event: PublishedWebhookEvent, candidates: WebhookSubscription[]): boolean {
    if (this.store.sharesTransactionsWith(manager)) {
      let shipment: WebhookShipment | undefined;
      return this.transactions.enlist(manager, {
        beforeCommit: async (txManager) => {
          shipment = await this.prepare(event, candidates, txManager, false);
        },
        afterCommit: () => {
          if (shipment) this.delivery.acceptForDelivery(shipment);
        },
      });
    }
    return this.transactions.enlist(manager, { afterCommit: () => this.delivery.track(this.dispatchNow(event, candidates)) });
  }

  /**
   * Events emitted outside a transaction during one synchronous stretch (a loop of `emit()` calls) are
   * written and handed over together, after it: one phase 1 and one phase 2 for the lot.
   */
  private dispatchSoon(event: PublishedWebhookEvent, candidates: WebhookSubscription[]): void {
    this.soon.push({ event, candidates });
    if (this.soon.length > 1) return;
    // Tracked now, so `waitForPendingDeliveries()` right after `emit()` already waits for it.
    this.delivery.track(
      new Promise<void>((resolve) =>
        queueMicrotask(() => {
          const batch = this.soon;
          this.soon = [];
          resolve(this.dispatchBatch(batch));
        }),
      ),
    );
  }

  private async dispatchBatch(batch: ReadonlyArray<{ event: PublishedWebhookEvent; candidates: WebhookSubscription[] }>): Promise<void> {
    const deliveries: WebhookDelivery[] = [];
    for (const { event, candidates } of batch) {
      for (const subscription of await this.applicable(event, candidates)) deliveries.push({ subscription, event });
    }
    this.delivery.acceptForDelivery(await this.delivery.createShipmentInfo(deliveries));
  }

  private async dispatchNow(event: PublishedWebhookEvent, candidates: WebhookSubscription[]): Promise<void> {
    const shipment = await this.prepare(event, candidates, undefined, false);
    this.delivery.acceptForDelivery(shipment);
  }

  private async prepare(
    event: PublishedWebhookEvent,
    candidates: WebhookSubscription[],
    manager: EntityManager | undefined,
    strict: boolean,
  ): Promise<WebhookShipment> {
    const applicable = await this.applicable(event, candidates);
    return this.delivery.createShipmentInfo(
      applicable.map((subscription) => ({ subscription, event })),
      { manager },
      { strict },
    );
  }

  /** Subscriptions with neither owner nor permission are always applicable: no authorizer round-trip. */
  private applicable(event: PublishedWebhookEvent, candidates: WebhookSubscription[]): WebhookSubscription[] | Promise<WebhookSubscription[]> {
    return candidates.every((s) => s.ownerId === null && s.permission === null)
      ? candidates
      : this.subscriptions.applicable(candidates, event.name, event.payload);
  }
}
