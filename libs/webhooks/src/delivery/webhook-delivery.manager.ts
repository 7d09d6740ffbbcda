import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { hostname } from 'node:os';
import { v5 as uuidv5 } from 'uuid';
import { newAttemptId } from '../attempts/attempt-id.js';
import type { WebhookAttempt } from '../attempts/webhook-attempt.js';
import { WebhookClock } from '../clock.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookPayloadSerializers } from '../payloads/webhook-payload.serializers.js';
import { type AttemptClaim, type AttemptQuery, type StoreWriteContext, WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionOperationError } from '../subscriptions/subscription.errors.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { AttemptMessages, WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../webhooks.options.js';
import { WebhookDeliveryQueue } from './queue/webhook-delivery.queue.js';
import { SubscriptionHealth } from './subscription-health.js';
import { describeError, WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { EMPTY_SHIPMENT, type WebhookDelivery, type WebhookShipment } from './webhook-shipment.js';

const HOSTNAME = hostname();

/** Namespace of `webhook-id`s derived from idempotency keys (stable across processes). */
const IDEMPOTENT_WEBHOOK_ID_NAMESPACE = '6f1d3c4e-5b8a-4f2e-9c7d-2a1b0e9f8d7c';

/** `waitForPendingDeliveries` ran out of time. */
export class WebhookDeliveryTimeoutError extends Error {
  override readonly name = 'WebhookDeliveryTimeoutError';
}

/** No attempt has this id. */
export class WebhookAttemptNotFoundError extends Error {
  override readonly name = 'WebhookAttemptNotFoundError';

  constructor(readonly attemptId: string) {
    super(`Webhook attempt "${attemptId}" does not exist`);
  }
}

/** An externalized payload over `delivery.maxPayloadBytes`. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';

  constructor(
    readonly eventName: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`The payload of ${eventName} is ${size} bytes, over the ${limit}-byte limit (delivery.maxPayloadBytes)`);
  }
}

/**
 * Two-phase delivery (seed `IWebhookDeliveryManager`). Phase 1, `createShipmentInfo`, runs inside the
 * publishing unit of work: it externalizes each payload once per (payload, event, dialect) and writes pending
 * attempts, through the caller's transaction when there is one (the outbox). Phase 2, `acceptForDelivery`,
 * runs after commit, never throws, and hands the attempts to the delivery queue.
 *
 * The store stays the source of truth: attempts are leased to this process while it holds them, and the queue
 * claims due attempts (retries, and those of processes that died), so every committed event is delivered at
 * least once, across crashes and restarts.
 */
@Injectable()
export class WebhookDeliveryManager implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryManager');
  private readonly background = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly dialects: WebhookDialectRegistry,
    private readonly serializers: WebhookPayloadSerializers,
    private readonly worker: WebhookDeliveryWorker,
    private readonly queue: WebhookDeliveryQueue,
    private readonly health: SubscriptionHealth,
    private readonly clock: WebhookClock,
  ) {}

  /** This process's identity in attempt leases. */
  get workerId(): string {
    return this.queue.workerId;
  }

  // ---------------------------------------------------------------- phase 1

  /**
   * Creates one pending attempt per delivery, inside the caller's unit of work when `context.manager` is a
   * transactional EntityManager of the store's database. Payloads are externalized once per (payload, event,
   * dialect). A payload the dialect cannot externalize, or one over `delivery.maxPayloadBytes`, gives a
   * `failed` attempt instead of an exception, so the caller's commit is never broken by a webhook; with
   * `strict`, the first such error is thrown instead and nothing is written. Deliveries whose event carries an
   * idempotency key already used for the subscription create nothing.
   */
  async createShipmentInfo(
    deliveries: readonly WebhookDelivery[],
    context: StoreWriteContext = {},
    options: { strict?: boolean } = {},
  ): Promise<WebhookShipment> {
    return (await this.writeShipment(deliveries, context, options)).shipment;
  }

  /**
   * `createShipmentInfo` for deliveries matched against the registry at `registryVersion`: when the store's
   * registry is no longer at that version nothing is written and `stale` is true (the dispatcher reads the changes
   * and matches again). The store keeps the version until the write's transaction ends.
   */
  async writeShipment(
    deliveries: readonly WebhookDelivery[],
    context: StoreWriteContext,
    options: { strict?: boolean; registryVersion?: number },
  ): Promise<{ shipment: WebhookShipment; stale: boolean; registryVersion: number }> {
    if (deliveries.length === 0 && options.registryVersion === undefined) return { shipment: EMPTY_SHIPMENT, stale: false, registryVersion: -1 };
    const now = this.clock.now();
    const bodies = new Map<unknown, Map<string, { body?: string; error?: unknown }>>();
    const attempts: WebhookAttempt[] = [];
    for (const { subscription, event } of deliveries) {
      const dialect = subscription.dialect ?? this.options.defaultDialect;
      let perDialect = bodies.get(event);
      if (!perDialect) bodies.set(event, (perDialect = new Map()));
      let externalized = perDialect.get(dialect);
      if (!externalized) {
        externalized = this.externalize(event.name, event.payload, event.occurredAt, dialect);
        perDialect.set(dialect, externalized);
      }
      const { error } = externalized;
      if (error && options.strict) throw error;
      const id = newAttemptId();
      const key = event.idempotencyKey ?? null;
      attempts.push({
        id,
        // With an idempotency key, even a duplicate that slipped through a race carries the same webhook-id.
        webhookId: key === null ? id : uuidv5(`${subscription.id}\u0000${key}`, IDEMPOTENT_WEBHOOK_ID_NAMESPACE),
        subscriptionId: subscription.id,
        eventName: event.name,
        status: error ? 'failed' : 'pending',
        message: error ? (error instanceof PayloadTooLargeError ? AttemptMessages.PayloadTooLarge : AttemptMessages.ExternalizationFailed) : null,
        payload: externalized.body ?? '',
        dialect,
        request: null,
        response: null,
        tries: 0,
        history: [],
        nextAttemptAt: error ? null : now,
        idempotencyKey: key,
        internal: {
          originated: { pid: process.pid, hostname: HOSTNAME, createdAt: now, note: event.note ?? null },
          exceptionHistory: error ? [describeError(error)] : [],
        },
        createdAt: now,
        updatedAt: now,
      });
    }
    const { registryVersion } = options;
    const written = await this.store.writeOutbox({ attempts, context, claim: this.claimFor(now), registryVersion });
    if (registryVersion !== undefined && written.registryVersion !== registryVersion) {
      return { shipment: EMPTY_SHIPMENT, stale: true, registryVersion: written.registryVersion };
    }
    const { inserted } = written;
    return {
      shipment: { pending: inserted.filter((a) => a.status === 'pending'), failed: inserted.filter((a) => a.status === 'failed') },
      stale: false,
      registryVersion: written.registryVersion,
    };
  }

  /** New attempts are leased to this process when it delivers (it sends them at once); otherwise workers claim them. */
  private claimFor(now: Date): AttemptClaim | undefined {
    return this.options.delivery.worker ? { workerId: this.workerId, leaseUntil: new Date(now.getTime() + this.options.delivery.leaseMs) } : undefined;
  }

  /** Externalizes a payload with a dialect and checks its size; errors are returned, not thrown. */
  externalize(eventName: string, payload: unknown, occurredAt: Date, dialectName: string): { body?: string; error?: unknown } {
    try {
      const data = this.serializers.serialize(payload, { eventName, dialect: dialectName });
      const body = this.dialects.get(dialectName).externalize({ eventName, payload, data, occurredAt, dialect: dialectName });
      if (typeof body !== 'string') throw new TypeError(`Dialect "${dialectName}" externalized ${eventName} to ${typeof body}, not a string`);
      const size = Buffer.byteLength(body);
      if (size > this.options.delivery.maxPayloadBytes) return { error: new PayloadTooLargeError(eventName, size, this.options.delivery.maxPayloadBytes) };
      return { body };
    } catch (error) {
      this.logger.warn(`Externalizing ${eventName} with dialect "${dialectName}" failed: ${describeError(error)}`);
      return { error };
    }
  }

  // ---------------------------------------------------------------- phase 2

  /** Schedules a shipment after its unit of work committed. Never throws (seed contract). */
  acceptForDelivery(shipment: WebhookShipment): void {
    try {
      // A process that does not deliver wrote them unleased: the workers claim them.
      if (shipment.pending.length > 0 && this.options.delivery.worker) {
        if (!this.stopped) this.queue.push(shipment.pending);
        else this.track(this.store.releaseClaims(this.workerId, shipment.pending.map((a) => a.id)));
      }
      for (const attempt of shipment.failed) this.track(this.announceFailedAtCreation(attempt));
    } catch (error) {
      this.logger.error(`acceptForDelivery failed: ${describeError(error)}`);
    }
  }

  // ---------------------------------------------------------------- attempt history

  /** Attempts of a subscription, newest first (`status` filters; `before` pages by attempt id). */
  listAttempts(subscriptionId: string, query: AttemptQuery = {}): Promise<WebhookAttempt[]> {
    return this.store.listAttempts(subscriptionId, query);
  }

  getAttempt(id: string): Promise<WebhookAttempt | null> {
    return this.store.findAttempt(id);
  }

  /** Deletes a subscription's attempt history (seed `clear()`). */
  clearAttempts(subscriptionId: string): Promise<number> {
    return this.store.clearAttempts(subscriptionId);
  }

  // ---------------------------------------------------------------- operator actions

  /**
   * Sends an attempt's event again as a new attempt with the same `webhook-id` and body, so the receiver can
   * recognise the duplicate. The subscription must be active.
   */
  async redeliver(attemptId: string): Promise<WebhookAttempt> {
    const original = await this.store.findAttempt(attemptId);
    if (!original) throw new WebhookAttemptNotFoundError(attemptId);
    const subscription = await this.subscriptions.require(original.subscriptionId);
    if (!subscription.active) {
      throw new WebhookSubscriptionOperationError(`Subscription "${subscription.id}" is not active; activate it before redelivering`);
    }
    const [attempt] = await this.resend([original], `redelivery of ${original.id}`);
    return attempt!;
  }

  /**
   * Redelivers every attempt of a subscription that failed at or after `since` (Svix's "recover"): after an
   * outage, one call sends everything the endpoint missed, oldest first, each with its original `webhook-id`.
   * "Failed at" is when the attempt resolved (its last try), so an event created before `since` whose retries
   * ran out during the outage is included. Returns the new attempts.
   */
  async recoverFailedAttempts(subscriptionId: string, since: Date): Promise<WebhookAttempt[]> {
    const subscription = await this.subscriptions.require(subscriptionId);
    if (!subscription.active) {
      throw new WebhookSubscriptionOperationError(`Subscription "${subscriptionId}" is not active; activate it before recovering`);
    }
    const failed: WebhookAttempt[] = [];
    // The history is bounded by limits.attemptLimit, so reading all failed attempts is cheap.
    for (let before: string | undefined; ; ) {
      const page = await this.store.listAttempts(subscriptionId, { status: 'failed', before, limit: 500 });
      failed.push(...page.filter((a) => a.updatedAt >= since));
      if (page.length < 500) break;
      before = page.at(-1)!.id;
    }
    return failed.length === 0 ? [] : this.resend(failed.reverse(), `recovery since ${since.toISOString()}`);
  }

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
      await Promise.race([this.settle(), timeout]);
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
    const task = work.then(
      () => undefined,
      (error) => this.logger.error(`Background webhook task failed: ${describeError(error)}`),
    );
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** Work this process holds: attempts waiting for a slot, requests in flight, outcomes being recorded, and background tasks. */
  get stats(): { queued: number; active: number; recording: number; background: number } {
    const { queued, active, recording = 0 } = this.queue.stats;
    return { queued, active, recording, background: this.background.size };
  }

  // ---------------------------------------------------------------- lifecycle

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
    await Promise.race([Promise.allSettled([...this.background]), new Promise((resolve) => setTimeout(resolve, bound).unref())]);
    await this.queue.stop(Math.max(0, bound - (Date.now() - started)));
    // History checks of what just resolved use the store, which closes after this hook.
    await Promise.race([this.health.whenIdle(), new Promise((resolve) => setTimeout(resolve, Math.max(100, bound - (Date.now() - started))).unref())]);
  }

  // ---------------------------------------------------------------- internals

  private async resend(originals: readonly WebhookAttempt[], note: string): Promise<WebhookAttempt[]> {
    const now = this.clock.now();
    const attempts = originals.map(
      (original): WebhookAttempt => ({
        ...original,
        id: newAttemptId(),
        status: 'pending',
        message: null,
        request: null,
        response: null,
        tries: 0,
        history: [],
        nextAttemptAt: now,
        idempotencyKey: null,
        internal: { originated: { pid: process.pid, hostname: HOSTNAME, createdAt: now, note }, exceptionHistory: [] },
        createdAt: now,
        updatedAt: now,
      }),
    );
    const inserted = await this.store.insertAttempts(attempts, {}, this.claimFor(now));
    this.acceptForDelivery({ pending: inserted, failed: [] });
    return inserted;
  }

  private async announceFailedAtCreation(attempt: WebhookAttempt): Promise<void> {
    const subscription = await this.subscriptions.get(attempt.subscriptionId);
    if (subscription) await this.worker.resolved(attempt, subscription);
  }

  private async settle(): Promise<void> {
    const busy = () => {
      const { queued, active, recording = 0 } = this.queue.stats;
      return this.background.size > 0 || queued > 0 || active > 0 || recording > 0 || this.health.busy;
    };
    while (busy()) {
      await Promise.allSettled([...this.background]);
      await this.queue.whenIdle();
      await this.health.whenIdle();
    }
  }
}
