import { Inject, Injectable, Logger } from '@nestjs/common';
import { hostname } from 'node:os';
import { v5 as uuidv5 } from 'uuid';
import { newAttemptId } from '../core/attempt-id.js';
import { WebhookClock } from '../core/clock.js';
import { PayloadTooLargeError } from '../core/delivery.errors.js';
import { describeError } from '../core/describe-error.js';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import { EMPTY_SHIPMENT, type WebhookDelivery, type WebhookShipment } from '../core/webhook-shipment.js';
import { AttemptMessages, WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookPayloadSerializers } from '../payloads/webhook-payload.serializers.js';
import { WebhookDeliveryQueue } from '../send/queue/webhook-delivery.queue.js';
import { SubscriptionHealth } from '../send/subscription-health.js';
import { WebhookDeliveryWorker } from '../send/webhook-delivery.worker.js';
import type { AttemptClaim, StoreWriteContext } from '../storage/webhook-store.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';

const HOSTNAME = hostname();

/** Namespace of `webhook-id`s derived from idempotency keys (stable across processes). */
const IDEMPOTENT_WEBHOOK_ID_NAMESPACE = '6f1d3c4e-5b8a-4f2e-9c7d-2a1b0e9f8d7c';

/**
 * Turns matched deliveries into attempts and hands them over: phase 1 (`write`) externalizes each payload once per
 * (payload, event, dialect) and writes the attempts through the caller's transaction when there is one (the
 * outbox); phase 2 (`accept`) runs after the commit, never throws, and gives the pending ones to the queue. It also
 * keeps the background work this process owes (announcements, precondition counts), which shutdown and
 * `waitForPendingDeliveries` wait for.
 */
@Injectable()
export class WebhookShipments {
  private readonly logger = new Logger('WebhookShipments');
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

  /**
   * Phase 1, for deliveries matched against the registry at `registryVersion`: when the store's registry is no
   * longer at that version nothing is written and `stale` is true (the dispatcher reads the changes and matches
   * again). A payload the dialect cannot externalize, or one over `delivery.maxPayloadBytes`, gives a `failed`
   * attempt instead of an exception (with `strict`, the error is thrown and nothing is written). `created` are the
   * attempts built, in the order of `deliveries` (the shipment holds those written).
   */
  async write(
    deliveries: readonly WebhookDelivery[],
    context: StoreWriteContext,
    options: { strict?: boolean; registryVersion?: number },
  ): Promise<{ shipment: WebhookShipment; stale: boolean; registryVersion: number; created: readonly WebhookAttempt[] }> {
    if (deliveries.length === 0 && options.registryVersion === undefined) return { shipment: EMPTY_SHIPMENT, stale: false, registryVersion: -1, created: [] };
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
      return { shipment: EMPTY_SHIPMENT, stale: true, registryVersion: written.registryVersion, created: [] };
    }
    const { inserted } = written;
    return {
      shipment: { pending: inserted.filter((a) => a.status === 'pending'), failed: inserted.filter((a) => a.status === 'failed') },
      stale: false,
      registryVersion: written.registryVersion,
      created: attempts,
    };
  }

  /** Phase 2: schedules a shipment after its unit of work committed. Never throws. */
  accept(shipment: WebhookShipment): void {
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

  /** New attempts for these events with their `webhook-id`s and bodies, sent at once (redelivery, recovery). */
  async resend(originals: readonly WebhookAttempt[], note: string): Promise<WebhookAttempt[]> {
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
    this.accept({ pending: inserted, failed: [] });
    return inserted;
  }

  /** Runs `work` as a tracked background task (waited for by `settle` and at shutdown); its failure is logged. */
  track<T>(work: Promise<T>): void {
    const task = work.then(
      () => undefined,
      (error) => this.logger.error(`Background webhook task failed: ${describeError(error)}`),
    );
    this.background.add(task);
    void task.finally(() => this.background.delete(task));
  }

  get backgroundTasks(): number {
    return this.background.size;
  }

  /** Resolves when nothing accepted so far is waiting, in flight, being recorded or running in the background. */
  async settle(): Promise<void> {
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

  /** Takes no more shipments for the queue (they are released to the store) and waits up to `ms` for background tasks. */
  async stop(ms: number): Promise<void> {
    this.stopped = true;
    await Promise.race([Promise.allSettled([...this.background]), new Promise((resolve) => setTimeout(resolve, ms).unref())]);
  }

  private get workerId(): string {
    return this.queue.workerId;
  }

  /** New attempts are leased to this process when it delivers (it sends them at once); otherwise workers claim them. */
  private claimFor(now: Date): AttemptClaim | undefined {
    return this.options.delivery.worker ? { workerId: this.workerId, leaseUntil: new Date(now.getTime() + this.options.delivery.leaseMs) } : undefined;
  }

  /** Externalizes a payload with a dialect and checks its size; errors are returned, not thrown. */
  private externalize(eventName: string, payload: unknown, occurredAt: Date, dialectName: string): { body?: string; error?: unknown } {
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

  private async announceFailedAtCreation(attempt: WebhookAttempt): Promise<void> {
    const subscription = await this.subscriptions.get(attempt.subscriptionId);
    if (subscription) await this.worker.resolved(attempt, subscription);
  }
}
