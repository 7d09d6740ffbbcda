import { type BeforeApplicationShutdown, Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { type WebhookAccessAction, WebhookAccessPolicy, type WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { WebhookProgressListener } from '../core/operation-progress.js';
import { WebhookAttemptNotFoundError, WebhookDeliveryTimeoutError } from '../core/delivery.errors.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import type { WebhookDelivery, WebhookShipment } from '../core/webhook-shipment.js';
import { WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookShipments } from '../publish/webhook-shipments.js';
import { WebhookDeliveryQueue } from '../send/queue/webhook-delivery.queue.js';
import { SubscriptionHealth } from '../send/subscription-health.js';
import { WebhookDeliveryWorker } from '../send/webhook-delivery.worker.js';
import { type AttemptQuery, type AttemptSearch, type OutboxStats, type StoreWriteContext, WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';

const RECOVERY_BATCH = 500;

/**
 * Deliveries as an operator and the application see them: the attempt history, redelivery and recovery, waiting
 * for what is pending, and the delivery loop's start and stop. It also keeps `nti.webhooks`' two-phase API
 * (`createShipmentInfo` inside the unit of work, `acceptForDelivery` after it commits).
 *
 * The store stays the source of truth: attempts are leased to this process while it holds them, and the queue
 * claims due attempts (retries, and those of processes that died), so every committed event is delivered at
 * least once, across crashes and restarts.
 */
@Injectable()
export class WebhookDeliveryManager implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private stopped = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly shipments: WebhookShipments,
    private readonly worker: WebhookDeliveryWorker,
    private readonly queue: WebhookDeliveryQueue,
    private readonly health: SubscriptionHealth,
    private readonly access: WebhookAccessPolicy,
  ) {}

  /** This process's identity in attempt leases. */
  get workerId(): string {
    return this.queue.workerId;
  }

  // ---------------------------------------------------------------- two phases

  /**
   * Phase 1: creates one attempt per delivery, inside the caller's unit of work when `context.manager` is a
   * transactional EntityManager of the store's database. A payload the dialect cannot externalize, or one over
   * `delivery.maxPayloadBytes`, gives a `failed` attempt instead of an exception, so the caller's commit is never
   * broken by a webhook; with `strict`, the first such error is thrown instead and nothing is written. Deliveries
   * whose event carries an idempotency key already used for the subscription create nothing.
   */
  async createShipmentInfo(deliveries: readonly WebhookDelivery[], context: StoreWriteContext = {}, options: { strict?: boolean } = {}): Promise<WebhookShipment> {
    return (await this.shipments.write(deliveries, context, options)).shipment;
  }

  /** Phase 2: schedules a shipment after its unit of work committed. Never throws. */
  acceptForDelivery(shipment: WebhookShipment): void {
    this.shipments.accept(shipment);
  }

  // ---------------------------------------------------------------- attempt history

  /** Attempts of a subscription, newest first (`status` filters; `before` pages by attempt id). */
  listAttempts(subscriptionId: string, query: AttemptQuery = {}): Promise<WebhookAttempt[]> {
    return this.store.listAttempts(subscriptionId, query);
  }

  /**
   * Attempts across subscriptions, newest first: filter by subscriptions, status, event name and creation time;
   * page with `before` (an attempt id). Pass `subscriptionIds` to keep to what a principal may see.
   */
  searchAttempts(query: AttemptSearch = {}): Promise<WebhookAttempt[]> {
    return this.store.searchAttempts(query);
  }

  /** The outbox across subscriptions: how many attempts are pending and when the oldest was created. */
  outboxStats(): Promise<OutboxStats> {
    return this.store.outboxStats();
  }

  getAttempt(id: string): Promise<WebhookAttempt | null> {
    return this.store.findAttempt(id);
  }

  /** Whether `principal` may do `action` with an attempt (`WebhookAccessPolicy.canAttempt`, with its subscription as it is now). */
  async mayAccessAttempt(principal: WebhookPrincipal, action: WebhookAccessAction, attempt: WebhookAttempt): Promise<boolean> {
    return this.access.canAttempt(principal, action, attempt, await this.subscriptions.get(attempt.subscriptionId));
  }

  /** Deletes a subscription's attempt history (`nti.webhooks`' `clear()`). */
  clearAttempts(subscriptionId: string): Promise<number> {
    return this.store.clearAttempts(subscriptionId);
  }

  // ---------------------------------------------------------------- operator actions

  /**
   * Sends an attempt's event again as a new attempt with the same `webhook-id` and body, so the receiver can
   * recognise the duplicate. The attempt must be resolved (a pending one is still retried) and the subscription
   * active; otherwise `WebhookSubscriptionOperationError`.
   */
  async redeliver(attemptId: string): Promise<WebhookAttempt> {
    const original = await this.store.findAttempt(attemptId);
    if (!original) throw new WebhookAttemptNotFoundError(attemptId);
    // A pending attempt is still being retried: a second one would send its webhook-id twice.
    if (original.status === 'pending') throw new WebhookSubscriptionOperationError(`Attempt "${attemptId}" is still pending; it is retried on its own schedule`);
    const subscription = await this.subscriptions.require(original.subscriptionId);
    if (!subscription.active) {
      throw new WebhookSubscriptionOperationError(`Subscription "${subscription.id}" is not active; activate it before redelivering`);
    }
    const [attempt] = await this.shipments.resend([original], `redelivery of ${original.id}`);
    return attempt!;
  }

  /**
   * Redelivers every attempt of a subscription that failed at or after `since` (Svix's "recover"): after an
   * outage, one call sends everything the endpoint missed, oldest first, each with its original `webhook-id`.
   * "Failed at" is when the attempt resolved (its last try), so an event created before `since` whose retries
   * ran out during the outage is included. Returns the new attempts. They are written in batches of 500;
   * `onProgress` hears how many of them are written.
   */
  async recoverFailedAttempts(subscriptionId: string, since: Date, options: { onProgress?: WebhookProgressListener } = {}): Promise<WebhookAttempt[]> {
    const subscription = await this.subscriptions.require(subscriptionId);
    if (!subscription.active) {
      throw new WebhookSubscriptionOperationError(`Subscription "${subscriptionId}" is not active; activate it before recovering`);
    }
    const failed: WebhookAttempt[] = [];
    // The history is bounded by limits.attemptLimit, so reading all failed attempts is cheap.
    for (let before: string | undefined; ; ) {
      const page = await this.store.listAttempts(subscriptionId, { status: 'failed', before, limit: RECOVERY_BATCH });
      failed.push(...page.filter((a) => a.updatedAt >= since));
      if (page.length < RECOVERY_BATCH) break;
      before = page.at(-1)!.id;
    }
    failed.reverse();
    const recovered: WebhookAttempt[] = [];
    for (let done = 0; done < failed.length; done += RECOVERY_BATCH) {
      options.onProgress?.({ done, total: failed.length });
      recovered.push(...(await this.shipments.resend(failed.slice(done, done + RECOVERY_BATCH), `recovery since ${since.toISOString()}`)));
    }
    options.onProgress?.({ done: failed.length, total: failed.length });
    return recovered;
  }

  // ---------------------------------------------------------------- waiting and the loop

  /**
   * Waits until every shipment accepted so far has been sent and recorded (tries scheduled for later are not
   * waited for). Rejects with `WebhookDeliveryTimeoutError` after `timeoutMs`.
   */
  async waitForPendingDeliveries(timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WebhookDeliveryTimeoutError(`Deliveries still pending after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.shipments.settle(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Claims and sends every attempt that is due now (the queue also does this every `pollIntervalMs`). */
  processDueAttempts(): Promise<number> {
    return this.queue.processDue();
  }

  /** Runs `work` as a tracked background task (waited for by `waitForPendingDeliveries` and at shutdown). */
  track<T>(work: Promise<T>): void {
    this.shipments.track(work);
  }

  /**
   * Work this process holds: attempts waiting for a slot, requests in flight, outcomes being recorded, and background
   * tasks; and when its queue last asked the store for due attempts (`null` before the first; `undefined` when the
   * queue does not say), and when the queue started taking work (`null` before; `undefined` when it does not say).
   */
  get stats(): { queued: number; active: number; recording: number; background: number; lastClaimAt: Date | null | undefined; startedAt: Date | null | undefined } {
    const { queued, active, recording = 0, lastClaimAt, startedAt } = this.queue.stats;
    return { queued, active, recording, background: this.shipments.backgroundTasks, lastClaimAt, startedAt };
  }

  onApplicationBootstrap(): void {
    if (!this.options.delivery.worker) return;
    // Starting the queue also resumes what is still pending from before (a restart, or a crashed peer).
    this.queue.start((attempt, signal, requestDone) => this.worker.deliver(attempt, signal, requestDone));
  }

  /**
   * Stops taking work, lets background tasks and in-flight requests finish for up to
   * `delivery.shutdownTimeoutMs`, aborts the rest and releases every unfinished claim, so another process
   * (or the next start) takes over at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const bound = this.options.delivery.shutdownTimeoutMs;
    const started = Date.now();
    await this.shipments.stop(bound);
    await this.queue.stop(Math.max(0, bound - (Date.now() - started)));
    // History checks of what just resolved use the store, which closes after this hook.
    await Promise.race([this.health.whenIdle(), new Promise((resolve) => setTimeout(resolve, Math.max(100, bound - (Date.now() - started))).unref())]);
  }
}
