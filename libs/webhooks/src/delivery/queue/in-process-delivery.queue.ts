import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { WebhookAttempt } from '../../attempts/webhook-attempt.js';
import { WebhookClock } from '../../clock.js';
import { WebhookStore } from '../../storage/webhook-store.js';
import { WebhookSubscriptionManager } from '../../subscriptions/webhook-subscription.manager.js';
import { WEBHOOKS_OPTIONS } from '../../webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../webhooks.options.js';
import { DeliveryScheduler } from './delivery-scheduler.js';
import { type WebhookDeliveryConsumer, WebhookDeliveryQueue, type WebhookDeliveryQueueStats } from './webhook-delivery.queue.js';

const CLAIM_BATCH = 500;

const endpoints = new Map<string, string>();

/** Scheme + host + port of a URL: the unit of per-endpoint limits. Cached per URL. */
function endpointOf(url: string): string {
  let endpoint = endpoints.get(url);
  if (endpoint === undefined) {
    try {
      const { protocol, host } = new URL(url);
      endpoint = `${protocol}//${host}`;
    } catch {
      endpoint = url;
    }
    if (endpoints.size >= 10_000) endpoints.clear();
    endpoints.set(url, endpoint);
  }
  return endpoint;
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * The default queue: attempts are sent by the process that committed them, through the fair scheduler
 * (global and per-endpoint limits, round-robin across endpoints, bounded memory). A poller claims due attempts
 * from the store every `delivery.pollIntervalMs` (and when a retry falls due sooner), which resumes pending
 * work after a restart and takes over the attempts of crashed processes once their leases expire. Leases of
 * attempts held here are renewed while they wait.
 */
@Injectable()
export class InProcessDeliveryQueue extends WebhookDeliveryQueue {
  private readonly logger = new Logger('WebhookDeliveryQueue');
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly scheduler: DeliveryScheduler;
  private readonly abort = new AbortController();
  private consume: WebhookDeliveryConsumer | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private renewTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** The endpoint of each subscription seen, to tell the store which subscriptions to skip when claiming. */
  private readonly endpointBySubscription = new Map<string, string>();

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly clock: WebhookClock,
  ) {
    super();
    // Every request in flight listens to this one signal (shutdown aborts them all).
    setMaxListeners(0, this.abort.signal);
    const { concurrency, perEndpointConcurrency, maxQueuedAttempts } = options.delivery;
    const maxQueuedPerEndpoint = Math.min(maxQueuedAttempts, Math.max(perEndpointConcurrency * 4, Math.ceil(maxQueuedAttempts / 4)));
    this.scheduler = new DeliveryScheduler({ concurrency, perEndpointConcurrency, maxQueued: maxQueuedAttempts, maxQueuedPerEndpoint }, async ({ attempt }, requestDone) => {
      const updated = await this.consume!(attempt, this.abort.signal, requestDone);
      if (updated?.status === 'pending' && updated.nextAttemptAt) this.wake(updated.nextAttemptAt);
    });
  }

  get stats(): WebhookDeliveryQueueStats {
    return { queued: this.scheduler.queued, active: this.scheduler.active, recording: this.scheduler.finishing };
  }

  start(consume: WebhookDeliveryConsumer): void {
    if (this.consume) return;
    this.consume = consume;
    this.schedulePoll(0);
    const every = Math.max(1000, Math.floor(this.options.delivery.leaseMs / 3));
    this.renewTimer = setInterval(() => void this.renewLeases(), every);
    this.renewTimer.unref();
  }

  push(attempts: readonly WebhookAttempt[]): void {
    const overflow: string[] = [];
    for (const attempt of attempts) if (!this.enqueue(attempt)) overflow.push(attempt.id);
    // What does not fit (or arrives while stopped) stays pending in the store; releasing the lease lets the
    // poller of this or any process claim it as soon as there is room.
    if (overflow.length > 0) {
      this.store.releaseClaims(this.workerId, overflow).catch((error: unknown) => {
        this.logger.warn(`Releasing ${overflow.length} overflowing claim(s) failed; they expire with their lease: ${describe(error)}`);
      });
    }
  }

  async processDue(): Promise<number> {
    if (!this.consume || this.stopped) return 0;
    let queued = 0;
    for (;;) {
      const room = Math.min(this.scheduler.capacity, CLAIM_BATCH);
      if (room === 0) break;
      const now = this.clock.now();
      const excludeSubscriptions = this.subscriptionsOfFullEndpoints();
      const attempts = await this.store.claimDue(this.workerId, now, new Date(now.getTime() + this.options.delivery.leaseMs), room, { excludeSubscriptions });
      const refused: string[] = [];
      for (const attempt of attempts) {
        if (this.enqueue(attempt)) queued++;
        else refused.push(attempt.id);
      }
      if (refused.length > 0) await this.store.releaseClaims(this.workerId, refused);
      if (attempts.length < room || refused.length > 0) break;
    }
    return queued;
  }

  wake(at: Date): void {
    const delay = at.getTime() - this.clock.now().getTime();
    if (delay >= this.options.delivery.pollIntervalMs || this.stopped) return;
    // The clock may be a test's; timers run in real time, so wait the clock's delta.
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

  whenIdle(): Promise<void> {
    return this.scheduler.whenIdle();
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of [this.pollTimer, this.wakeTimer]) if (timer) clearTimeout(timer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.polling;
    this.scheduler.takeWaiting();
    const finished = await Promise.race([
      this.scheduler.whenIdle().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
    ]);
    if (!finished) {
      this.logger.warn(`Aborting ${this.scheduler.active} webhook request(s) still in flight after ${timeoutMs} ms`);
      this.abort.abort();
      await Promise.race([this.scheduler.whenIdle(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    }
    try {
      // Everything this process still holds: waiting, unfinished, and requests aborted above.
      await this.store.releaseClaims(this.workerId);
    } catch (error) {
      this.logger.warn(`Releasing claims at shutdown failed (they expire after ${this.options.delivery.leaseMs} ms): ${describe(error)}`);
    }
  }

  /** Subscriptions whose endpoint's waiting line is full: claiming more of theirs would only hand them back. */
  private subscriptionsOfFullEndpoints(): string[] {
    const full = this.scheduler.fullEndpoints();
    if (full.size === 0) return [];
    const ids: string[] = [];
    for (const [subscriptionId, endpoint] of this.endpointBySubscription) if (full.has(endpoint)) ids.push(subscriptionId);
    return ids;
  }

  private enqueue(attempt: WebhookAttempt): boolean {
    if (this.stopped || !this.consume) return false;
    const subscription = this.subscriptions.activeSubscription(attempt.subscriptionId);
    const endpoint = subscription ? endpointOf(subscription.url) : attempt.subscriptionId;
    if (this.endpointBySubscription.size > 100_000) this.endpointBySubscription.clear();
    this.endpointBySubscription.set(attempt.subscriptionId, endpoint);
    return this.scheduler.enqueue({ attempt, endpoint });
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref();
  }

  private poll(): Promise<void> {
    this.polling ??= (async () => {
      try {
        await this.processDue();
      } catch (error) {
        this.logger.warn(`Claiming due webhook attempts failed: ${describe(error)}`);
      } finally {
        this.polling = null;
        this.schedulePoll(this.options.delivery.pollIntervalMs);
      }
    })();
    return this.polling;
  }

  private async renewLeases(): Promise<void> {
    const ids = this.scheduler.heldIds();
    if (ids.length === 0 || this.stopped) return;
    try {
      const now = this.clock.now();
      await this.store.renewClaims(this.workerId, ids, new Date(now.getTime() + this.options.delivery.leaseMs));
    } catch (error) {
      this.logger.warn(`Renewing webhook leases failed: ${describe(error)}`);
    }
  }
}
