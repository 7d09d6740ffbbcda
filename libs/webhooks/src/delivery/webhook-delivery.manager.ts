import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { v7 as uuidv7 } from 'uuid';
import type { WebhookAttempt } from '../attempts/webhook-attempt.js';
import { WebhookClock } from '../clock.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookPayloadSerializers } from '../payloads/webhook-payload.serializers.js';
import { type AttemptQuery, type StoreWriteContext, WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { WebhookSubscriptionOperationError } from '../subscriptions/subscription.errors.js';
import { WEBHOOKS_OPTIONS } from '../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../webhooks.options.js';
import { DeliveryScheduler, type DeliveryJob } from './delivery-scheduler.js';
import { describeError, WebhookDeliveryWorker } from './webhook-delivery.worker.js';
import { EMPTY_SHIPMENT, type WebhookDelivery, type WebhookShipment } from './webhook-shipment.js';

/** Message of attempts whose payload could not be externalized by their dialect. */
export const EXTERNALIZATION_FAILED_MESSAGE = 'The payload could not be externalized for delivery.';
/** Message of attempts whose externalized payload is larger than `delivery.maxPayloadBytes`. */
export const PAYLOAD_TOO_LARGE_MESSAGE = 'The payload is larger than the maximum allowed size.';

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

function endpointOf(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}`;
  } catch {
    return url;
  }
}

/**
 * Two-phase delivery (seed `IWebhookDeliveryManager`). Phase 1, `createShipmentInfo`, runs inside the
 * publishing unit of work: it externalizes each payload once per (payload, event, dialect) and writes pending
 * attempts, through the caller's transaction when there is one (the outbox). Phase 2, `acceptForDelivery`,
 * runs after commit, never throws, and hands the attempts to the in-process scheduler.
 *
 * The store stays the source of truth: attempts are leased to this process while it sends them, and a poller
 * claims due attempts (retries, and attempts of processes that died) so every committed event is delivered at
 * least once, across crashes and restarts.
 */
@Injectable()
export class WebhookDeliveryManager implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookDeliveryManager');
  /** This process's identity in leases. */
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly scheduler: DeliveryScheduler;
  private readonly background = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private pollTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private renewTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  private started = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly dialects: WebhookDialectRegistry,
    private readonly serializers: WebhookPayloadSerializers,
    private readonly worker: WebhookDeliveryWorker,
    private readonly clock: WebhookClock,
  ) {
    const { concurrency, perEndpointConcurrency, maxQueuedAttempts } = options.delivery;
    this.scheduler = new DeliveryScheduler(
      { concurrency, perEndpointConcurrency, maxQueued: maxQueuedAttempts },
      (job) => this.run(job),
    );
  }

  // ---------------------------------------------------------------- phase 1

  /**
   * Creates one pending attempt per delivery, inside the caller's unit of work when `context.manager` is a
   * transactional EntityManager of the store's database. Payloads are externalized once per (payload, event,
   * dialect). A payload the dialect cannot externalize, or one over `delivery.maxPayloadBytes`, gives a
   * `failed` attempt instead of an exception, so the caller's commit is never broken by a webhook; with
   * `strict`, the first such error is thrown instead and nothing is written.
   */
  async createShipmentInfo(
    deliveries: readonly WebhookDelivery[],
    context: StoreWriteContext = {},
    options: { strict?: boolean } = {},
  ): Promise<WebhookShipment> {
    if (deliveries.length === 0) return EMPTY_SHIPMENT;
    const now = this.clock.now();
    const bodies = new Map<unknown, Map<string, { body?: string; error?: unknown }>>();
    const pending: WebhookAttempt[] = [];
    const failed: WebhookAttempt[] = [];
    for (const { subscription, event } of deliveries) {
      const dialect = subscription.dialect ?? this.options.defaultDialect;
      let perPayload = bodies.get(event);
      if (!perPayload) bodies.set(event, (perPayload = new Map()));
      let externalized = perPayload.get(dialect);
      if (!externalized) {
        externalized = this.externalize(event.name, event.payload, event.occurredAt, dialect);
        perPayload.set(dialect, externalized);
      }
      const id = uuidv7();
      const error = externalized.error;
      if (error && options.strict) throw error;
      const attempt: WebhookAttempt = {
        id,
        webhookId: id,
        subscriptionId: subscription.id,
        eventName: event.name,
        status: error ? 'failed' : 'pending',
        message: error ? (error instanceof PayloadTooLargeError ? PAYLOAD_TOO_LARGE_MESSAGE : EXTERNALIZATION_FAILED_MESSAGE) : null,
        payload: externalized.body ?? '',
        dialect,
        request: null,
        response: null,
        tries: 0,
        history: [],
        nextAttemptAt: error ? null : now,
        internal: {
          originated: { pid: process.pid, hostname: hostname(), createdAt: now, note: event.note ?? null },
          exceptionHistory: error ? [describeError(error)] : [],
        },
        createdAt: now,
        updatedAt: now,
      };
      (error ? failed : pending).push(attempt);
    }
    const leaseUntil = new Date(now.getTime() + this.options.delivery.leaseMs);
    await this.store.insertAttempts([...pending, ...failed], context, { workerId: this.workerId, leaseUntil });
    return { pending, failed };
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
      const overflow: string[] = [];
      if (this.options.delivery.worker && !this.stopped) {
        for (const attempt of shipment.pending) if (!this.enqueue(attempt)) overflow.push(attempt.id);
      } else {
        overflow.push(...shipment.pending.map((a) => a.id));
      }
      // Attempts that do not fit in memory stay pending in the store; releasing the lease lets the poller
      // (of this or any process) claim them as soon as there is room.
      if (overflow.length > 0) this.track(this.store.releaseClaims(this.workerId, overflow));
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
   * recognise the duplicate. Works for resolved attempts of active subscriptions.
   */
  async redeliver(attemptId: string): Promise<WebhookAttempt> {
    const original = await this.store.findAttempt(attemptId);
    if (!original) throw new WebhookAttemptNotFoundError(attemptId);
    const subscription = await this.subscriptions.require(original.subscriptionId);
    if (!subscription.active) throw new WebhookSubscriptionOperationError(`Subscription "${subscription.id}" is not active; activate it before redelivering`);
    const now = this.clock.now();
    const id = uuidv7();
    const attempt: WebhookAttempt = {
      ...original,
      id,
      status: 'pending',
      message: null,
      request: null,
      response: null,
      tries: 0,
      history: [],
      nextAttemptAt: now,
      internal: {
        originated: { pid: process.pid, hostname: hostname(), createdAt: now, note: `redelivery of ${original.id}` },
        exceptionHistory: [],
      },
      createdAt: now,
      updatedAt: now,
    };
    await this.store.insertAttempts([attempt], {}, { workerId: this.workerId, leaseUntil: new Date(now.getTime() + this.options.delivery.leaseMs) });
    this.acceptForDelivery({ pending: [attempt], failed: [] });
    return attempt;
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

  /** Claims and sends every attempt that is due now (what the poller does on its own every `pollIntervalMs`). */
  async processDueAttempts(): Promise<number> {
    if (!this.options.delivery.worker || this.stopped) return 0;
    let claimed = 0;
    for (;;) {
      const room = Math.min(this.scheduler.capacity, 500);
      if (room === 0) break;
      const now = this.clock.now();
      const attempts = await this.store.claimDue(this.workerId, now, new Date(now.getTime() + this.options.delivery.leaseMs), room);
      for (const attempt of attempts) if (this.enqueue(attempt)) claimed++;
      if (attempts.length < room) break;
    }
    return claimed;
  }

  /** Runs `work` as a tracked background task (waited for by `waitForPendingDeliveries` and shutdown). */
  track<T>(work: Promise<T>): void {
    const task = work.then(
      () => undefined,
      (error) => this.logger.error(`Background webhook task failed: ${describeError(error)}`),
    );
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  /** How many attempts this process holds: waiting for a slot, and being sent. */
  get stats(): { queued: number; active: number; background: number } {
    return { queued: this.scheduler.queued, active: this.scheduler.active, background: this.background.size };
  }

  // ---------------------------------------------------------------- lifecycle

  onApplicationBootstrap(): void {
    if (!this.options.delivery.worker || this.started) return;
    this.started = true;
    // Resume what is still pending from before (this process's previous life, or a crashed peer's).
    this.schedulePoll(0);
    this.renewTimer = setInterval(() => this.track(this.renewLeases()), Math.max(1000, Math.floor(this.options.delivery.leaseMs / 3)));
    this.renewTimer.unref();
  }

  /**
   * Stops claiming, lets in-flight requests finish for up to `delivery.shutdownTimeoutMs`, aborts the rest and
   * releases every unfinished claim so another process (or the next start) takes over at once.
   */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of [this.pollTimer, this.wakeTimer]) if (timer) clearTimeout(timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    const waiting = this.scheduler.takeWaiting().map((job) => job.attempt.id);
    const bound = this.options.delivery.shutdownTimeoutMs;
    const finished = await Promise.race([
      Promise.all([this.scheduler.whenIdle(), Promise.allSettled([...this.background])]).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), bound).unref()),
    ]);
    if (!finished) {
      this.logger.warn(`Aborting ${this.scheduler.active} webhook request(s) still in flight after ${bound} ms`);
      this.abort.abort();
      await Promise.race([this.scheduler.whenIdle(), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    try {
      await this.store.releaseClaims(this.workerId, [...waiting, ...this.scheduler.heldIds()]);
    } catch (error) {
      this.logger.warn(`Releasing claims at shutdown failed (they expire after ${this.options.delivery.leaseMs} ms): ${describeError(error)}`);
    }
  }

  // ---------------------------------------------------------------- internals

  private enqueue(attempt: WebhookAttempt): boolean {
    const subscription = this.subscriptions.activeSubscription(attempt.subscriptionId);
    return this.scheduler.enqueue({ attempt, endpoint: subscription ? endpointOf(subscription.url) : attempt.subscriptionId });
  }

  private async run(job: DeliveryJob): Promise<void> {
    const updated = await this.worker.deliver(job.attempt, this.abort.signal);
    if (updated?.status === 'pending' && updated.nextAttemptAt) this.wakeAtTime(updated.nextAttemptAt.getTime());
  }

  private async announceFailedAtCreation(attempt: WebhookAttempt): Promise<void> {
    const subscription = await this.subscriptions.get(attempt.subscriptionId);
    if (subscription) await this.worker.resolved(attempt, subscription);
  }

  private async settle(): Promise<void> {
    while (this.background.size > 0 || !this.scheduler.idle) {
      await Promise.allSettled([...this.background]);
      await this.scheduler.whenIdle();
    }
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref();
  }

  /** A retry due before the next regular poll: look again at that time (in real time, the clock's delta). */
  private wakeAtTime(at: number): void {
    const delay = at - this.clock.now().getTime();
    if (delay >= this.options.delivery.pollIntervalMs || this.stopped) return;
    const due = Date.now() + Math.max(0, delay);
    if (due >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = due;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.poll();
    }, Math.max(0, delay) + 1);
    this.wakeTimer.unref();
  }

  private poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        await this.processDueAttempts();
      } catch (error) {
        this.logger.warn(`Claiming due webhook attempts failed: ${describeError(error)}`);
      } finally {
        this.polling = null;
        this.schedulePoll(this.options.delivery.pollIntervalMs);
      }
    })();
    return this.polling;
  }

  private async renewLeases(): Promise<void> {
    const ids = this.scheduler.heldIds();
    if (ids.length === 0) return;
    const now = this.clock.now();
    await this.store.renewClaims(this.workerId, ids, new Date(now.getTime() + this.options.delivery.leaseMs));
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
