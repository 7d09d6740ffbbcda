import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebhookEntityManager } from '../core/webhook-entity-manager.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import { WebhookClock } from '../core/clock.js';
import { describeError } from '../core/describe-error.js';
import { DeliverableEvents } from './deliverable-events.js';
import { WebhookShipments } from './webhook-shipments.js';
import { EMPTY_SHIPMENT, type PublishedWebhookEvent, type WebhookDelivery, type WebhookShipment } from '../core/webhook-shipment.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { WebhookRegistryConflictError } from '../core/subscription.errors.js';
import { SubscriptionAuthorization } from '../access/subscription-authorization.js';
import { WebhookScopes } from '../matching/webhook-scopes.js';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WebhookTransactions } from './webhook-transactions.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookTracing } from '../tracing/webhook-tracing.js';
import { EventRecipients, type QueuedEvent } from './event-recipients.js';

/** Rounds of matching before phase 1 gives up: each one follows a subscription change committed meanwhile. */
const MAX_MATCH_ROUNDS = 20;
/** Events written together when emitted outside a transaction in one synchronous stretch, at most. */
const MAX_BATCH = 1000;
const COMMIT_BATCH = Symbol('nest-webhooks:commit-batch');

interface Phase1 {
  shipment: WebhookShipment;
  /** Subscriptions whose authorization could not be decided: counted once the write has committed. */
  preconditionFailures: WebhookSubscription[];
  /** What was matched, and the attempts built for it in the same order (for the publish spans). */
  deliveries: readonly WebhookDelivery[];
  created: readonly WebhookAttempt[];
}

/**
 * Turns application events into attempts (`nti.webhooks`: the dispatcher plus the transaction's data manager): match the
 * registry, authorize, then run phase 1 inside the right unit of work and phase 2 after it commits.
 *
 * Phase 1 matches against the registry at a known version and the store writes only while it is still at that
 * version (see `RegistrySync`); otherwise the changes are read, in the same transaction, and the events matched
 * again. So an event is delivered to the subscriptions as they were when it committed, whichever process changed
 * them.
 *
 * - Inside a transaction of the store's database: the events of one transaction are written together by it just
 *   before it commits (so payloads reflect the committed state) and sent after the commit; a rollback leaves
 *   nothing.
 * - Inside a transaction of another database (or with the memory store): everything waits for the commit and
 *   is dropped on rollback; atomicity with the business data needs the webhook tables in the same database.
 * - Outside a transaction: the events of one synchronous stretch are one unit of work.
 */
@Injectable()
export class WebhookDispatcher {
  private readonly logger = new Logger('WebhookDispatcher');
  private readonly deliverable: DeliverableEvents;
  private readonly recipients: EventRecipients;
  private soon: QueuedEvent[] = [];
  /** The batch of events being written (outside transactions); the next one starts when it is done. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly registry: SubscriptionRegistry,
    authorization: SubscriptionAuthorization,
    private readonly shipments: WebhookShipments,
    private readonly transactions: WebhookTransactions,
    private readonly store: WebhookStore,
    private readonly clock: WebhookClock,
    private readonly scopes: WebhookScopes,
    private readonly tracing: WebhookTracing,
  ) {
    this.deliverable = new DeliverableEvents(options.events);
    this.recipients = new EventRecipients(registry, store, authorization);
  }

  /**
   * For the catch-all EventEmitter2 listener: synchronous, never throws. With a store other processes share, every
   * deliverable event goes to phase 1 (a subscription created elsewhere may match it); with the memory store an
   * event nothing matches ends here.
   */
  onEmitted(eventName: string, payload: unknown): void {
    try {
      if (!this.deliverable.has(eventName)) return;
      // In emit()'s own async context, where the current scope is.
      const scopes = this.scopes.ofEvent(payload);
      const candidates = this.registry.match(eventName, payload, scopes);
      if (candidates.length === 0 && !this.store.shared) return;
      const event = { name: eventName, payload, occurredAt: this.clock.now(), scopes };
      const queued: QueuedEvent = { event, traceParent: this.tracing.captureParent() };
      this.recipients.authorizeNow(queued, candidates);
      const manager = this.transactions.current();
      if (manager && this.enlist(manager, queued)) return;
      this.dispatchSoon(queued);
    } catch (error) {
      this.logger.error(`Dispatching ${eventName} failed: ${describeError(error)}`);
    }
  }

  /**
   * Publishes explicitly (see `WebhookPublisher.publish`). With a transactional `manager` of the store's
   * database the attempts are written now, in that transaction; otherwise as described on the class.
   * Returns the attempts written now (empty when the work waits for a commit).
   */
  async publish(event: PublishedWebhookEvent, manager?: WebhookEntityManager): Promise<WebhookAttempt[]> {
    if (!this.deliverable.has(event.name)) return [];
    const candidates = this.registry.match(event.name, event.payload, event.scopes);
    if (candidates.length === 0 && !this.store.shared) return [];
    const queued: QueuedEvent = { event, traceParent: this.tracing.captureParent() };
    this.recipients.authorizeNow(queued, candidates);
    return this.write(queued, manager);
  }

  /**
   * Writes an event for one subscription, without matching or the authorizer (`WebhookPublisher.publishTo`).
   * Throws when the subscription is not active in the registry at the version the write commits at.
   */
  async publishTo(subscriptionId: string, event: PublishedWebhookEvent): Promise<WebhookAttempt> {
    const [attempt] = await this.write({ event, target: subscriptionId, traceParent: this.tracing.captureParent() }, undefined);
    return attempt!;
  }

  private async write(queued: QueuedEvent, manager: WebhookEntityManager | undefined): Promise<WebhookAttempt[]> {
    if (this.transactions.isActive(manager)) {
      if (!this.store.sharesTransactionsWith(manager)) {
        this.enlist(manager, queued);
        return [];
      }
      const { shipment, preconditionFailures } = await this.phase1([queued], manager, true);
      this.transactions.enlist(manager, {
        afterCommit: () => {
          this.shipments.accept(shipment);
          this.countFailures(preconditionFailures);
        },
      });
      return [...shipment.pending, ...shipment.failed];
    }
    const { shipment, preconditionFailures } = await this.phase1([queued], undefined, true);
    this.shipments.accept(shipment);
    this.countFailures(preconditionFailures);
    return [...shipment.pending, ...shipment.failed];
  }

  /**
   * Enlists an event in `manager`'s transaction. For the store's database, the events of the transaction are
   * gathered as its commit begins and written by one phase 1; for another database, after the commit.
   */
  private enlist(manager: WebhookEntityManager, queued: QueuedEvent): boolean {
    if (!this.store.sharesTransactionsWith(manager)) {
      return this.transactions.enlist(manager, { afterCommit: () => this.dispatchSoon(queued) });
    }
    return this.transactions.enlist(manager, { beforeCommit: async (txManager) => this.gather(txManager, queued) });
  }

  /**
   * Runs in the commit's before-commit work, once per event enlisted (savepoints rolled back dropped theirs): the
   * first one enlists the write of all of them, which runs after the last (work enlisted during a commit runs last).
   */
  private gather(txManager: WebhookEntityManager, queued: QueuedEvent): void {
    const state = this.transactions.stateOf(txManager);
    if (!state) return;
    let batch = state.get(COMMIT_BATCH) as QueuedEvent[] | undefined;
    if (batch) {
      batch.push(queued);
      return;
    }
    batch = [queued];
    state.set(COMMIT_BATCH, batch);
    let phase1: Phase1 | undefined;
    this.transactions.enlist(txManager, {
      beforeCommit: async (m) => {
        state.delete(COMMIT_BATCH);
        phase1 = await this.phase1(batch, m, false);
      },
      afterCommit: () => {
        if (!phase1) return;
        this.shipments.accept(phase1.shipment);
        this.countFailures(phase1.preconditionFailures);
      },
    });
  }

  /**
   * Events emitted outside a transaction are written in batches of up to `MAX_BATCH`, one batch at a time: a batch
   * holds what was emitted while the one before it was written (at least one synchronous stretch, such as a loop of
   * `emit()` calls). So a burst reaches the store, and the workers, batch by batch instead of all at the end.
   */
  private dispatchSoon(queued: QueuedEvent): void {
    if (this.soon.length > 0 && this.soon.length < MAX_BATCH) {
      this.soon.push(queued);
      return;
    }
    const batch = [queued];
    this.soon = batch;
    const written = this.writing.then(() => {
      if (this.soon === batch) this.soon = [];
      return this.dispatchBatch(batch);
    });
    this.writing = written.catch(() => undefined);
    // Tracked now, so `waitForPendingDeliveries()` right after `emit()` already waits for it.
    this.shipments.track(written);
  }

  private async dispatchBatch(batch: readonly QueuedEvent[]): Promise<void> {
    const { shipment, preconditionFailures } = await this.phase1(batch, undefined, false);
    this.shipments.accept(shipment);
    this.countFailures(preconditionFailures);
  }

  /** Phase 1 in the publish spans of its events (when something traces). */
  private async phase1(batch: readonly QueuedEvent[], manager: WebhookEntityManager | undefined, strict: boolean): Promise<Phase1> {
    const spans = this.tracing.startPublish(batch);
    if (!spans) return this.matchAndWrite(batch, manager, strict);
    let phase1: Phase1;
    try {
      phase1 = await this.matchAndWrite(batch, manager, strict);
    } catch (error) {
      spans.failed(error);
      throw error;
    }
    spans.written(phase1.deliveries, phase1.created, phase1.shipment);
    return phase1;
  }

  /**
   * Matches, authorizes and writes, again while the store says the registry has moved on (its changes are read
   * through `manager`, inside the transaction, which from then on keeps the version where it is).
   */
  private async matchAndWrite(batch: readonly QueuedEvent[], manager: WebhookEntityManager | undefined, strict: boolean): Promise<Phase1> {
    const shared = this.store.shared;
    for (let round = 1; ; round++) {
      const registryVersion = this.registry.version;
      const deliveries: WebhookDelivery[] = [];
      const preconditionFailures: WebhookSubscription[] = [];
      for (const queued of batch) {
        for (const subscription of await this.recipients.of(queued, preconditionFailures)) deliveries.push({ subscription, event: queued.event });
      }
      if (deliveries.length === 0 && !shared) return { shipment: EMPTY_SHIPMENT, preconditionFailures, deliveries, created: [] };
      const written = await this.shipments.write(deliveries, { manager }, { strict, registryVersion: shared ? registryVersion : undefined });
      if (written.stale) {
        // Behind this process's registry: reading changes cannot help (SQLite, a transaction that has only read).
        if (written.registryVersion < registryVersion || round >= MAX_MATCH_ROUNDS) {
          throw new WebhookRegistryConflictError(written.registryVersion, registryVersion);
        }
        await this.registry.refresh({ manager });
        continue;
      }
      return { shipment: written.shipment, preconditionFailures, deliveries, created: written.created };
    }
  }

  /** After the write committed: precondition failures count against their subscriptions. */
  private countFailures(subscriptions: readonly WebhookSubscription[]): void {
    for (const subscription of subscriptions) this.shipments.track(this.subscriptions.countPreconditionFailure(subscription));
  }
}
