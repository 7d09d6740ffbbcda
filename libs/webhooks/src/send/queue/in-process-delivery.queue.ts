import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { describeError } from '../../core/describe-error.js';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import { WebhookClock } from '../../core/clock.js';
import { WebhookStore } from '../../storage/webhook-store.js';
import { SubscriptionRegistry } from '../../subscriptions/subscription-registry.js';
import { WEBHOOKS_OPTIONS } from '../../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import { DeliveryScheduler } from './delivery-scheduler.js';
import { CLAIM_BATCH, DueClaims } from './due-claims.js';
import { EndpointKeys } from './endpoint-keys.js';
import { EndpointLeases } from './endpoint-leases.js';
import { PollSchedule } from './poll-schedule.js';
import { Spill } from './spill.js';
import { type WebhookDeliveryConsumer, WebhookDeliveryQueue, type WebhookDeliveryQueueStats } from './webhook-delivery.queue.js';

/**
 * The default queue: attempts are sent by the process that committed them, through the fair scheduler
 * (global and per-endpoint limits, round-robin across endpoints, bounded memory). A poller claims due attempts
 * from the store every `delivery.pollIntervalMs` (and when a retry falls due sooner), which resumes pending
 * work after a restart and takes over the attempts of crashed processes once their leases expire. Leases of
 * attempts held here are renewed while they wait.
 *
 * Attempts that do not fit are handed back to the store ("spilled"). Until they are claimed back, the
 * endpoint's new attempts follow them there, so they do not overtake the older ones (an attempt handed back
 * while the claim that catches up runs comes back with the claim right after it), and they are claimed back as
 * soon as the endpoint's line is half empty, not at the next poll: a burst longer than the line costs the time
 * to work it off, not a poll interval.
 */
@Injectable()
export class InProcessDeliveryQueue extends WebhookDeliveryQueue {
  private readonly logger = new Logger('WebhookDeliveryQueue');
  readonly workerId = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly scheduler: DeliveryScheduler;
  private readonly abort = new AbortController();
  private consume: WebhookDeliveryConsumer | null = null;
  private readonly polls: PollSchedule;
  private readonly endpoints = new EndpointKeys();
  private renewTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly spill: Spill;
  private readonly claims: DueClaims;
  private readonly maxQueuedPerEndpoint: number;
  /** Free room in the whole queue worth a claim. */
  private readonly refillRoom: number;
  /** The endpoints this worker serves (one worker per endpoint when processes share the store). */
  private readonly leases: EndpointLeases;
  private unwatch: (() => void) | null = null;
  private startedAt: Date | null = null;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly registry: SubscriptionRegistry,
    private readonly clock: WebhookClock,
  ) {
    super();
    // Every request in flight listens to this one signal (shutdown aborts them all).
    setMaxListeners(0, this.abort.signal);
    const { concurrency, perEndpointConcurrency, maxQueuedAttempts } = options.delivery;
    const maxQueuedPerEndpoint = Math.min(maxQueuedAttempts, Math.max(perEndpointConcurrency * 4, Math.ceil(maxQueuedAttempts / 4)));
    this.maxQueuedPerEndpoint = maxQueuedPerEndpoint;
    this.refillRoom = Math.min(CLAIM_BATCH, Math.ceil(maxQueuedAttempts / 4));
    this.leases = new EndpointLeases(store, this.workerId, options.delivery.leaseMs, clock);
    this.polls = new PollSchedule(() => this.processDue(), options.delivery.pollIntervalMs, (error) =>
      this.logger.warn(`Claiming due webhook attempts failed: ${describeError(error)}`),
    );
    this.spill = new Spill(store, this.workerId, this.logger);
    this.scheduler = new DeliveryScheduler({ concurrency, perEndpointConcurrency, maxQueued: maxQueuedAttempts, maxQueuedPerEndpoint }, async ({ attempt, endpoint }, requestDone) => {
      if (this.spill.endpoints.size > 0) this.refillIfRoom();
      // Every subscription change committed before this try, in any process, is in the registry from here on: a
      // subscription deactivated, deleted or re-pointed elsewhere gets no try with its old state. When the store
      // cannot be read the try waits (the attempt is claimed again when its lease runs out).
      const fence = this.registry.fence();
      if (fence && !(await fence.then(() => true, () => false))) return;
      const subscription = this.registry.active(attempt.subscriptionId);
      // Not active: nothing is sent (the worker cancels the attempt), so no endpoint is needed.
      if (subscription) {
        // Keyed by the subscription's URL as the registry had it when queued: after a change, it goes to its new line.
        const current = this.endpoints.of(subscription.url);
        if (current !== endpoint) return this.requeue(attempt, current);
        const mine = this.leases.mayServe(endpoint);
        if (mine !== true && !(await mine)) return this.leaveToOtherWorker(endpoint, attempt.id);
      }
      const updated = await this.consume!(attempt, this.abort.signal, requestDone);
      if (updated?.status === 'pending' && updated.nextAttemptAt) this.wake(updated.nextAttemptAt);
    });
    const { scheduler, spill, leases, endpoints, polls } = this;
    this.claims = new DueClaims(this, { scheduler, spill, leases, endpoints, polls: () => polls, store, registry, clock, options });
  }

  /** Taking attempts: started, and not stopped. */
  get accepting(): boolean {
    return this.consume !== null && !this.stopped;
  }

  get stats(): WebhookDeliveryQueueStats {
    return {
      queued: this.scheduler.queued,
      active: this.scheduler.active,
      recording: this.scheduler.finishing,
      lastClaimAt: this.claims.lastClaimAt,
      startedAt: this.startedAt,
    };
  }

  start(consume: WebhookDeliveryConsumer): void {
    if (this.consume) return;
    this.consume = consume;
    this.startedAt = this.clock.now();
    this.polls.schedule(0);
    // Another process handed attempts back, or wrote some it will not send: claim them now, not at the next poll.
    this.unwatch = this.store.watch((signal) => {
      if (signal !== 'attempts') return;
      // Handed back (by a worker that stopped, perhaps with its endpoints): look again at once.
      this.leases.recheckAll();
      if (!this.polls.puttingOff) void this.polls.poll();
    });
    const every = Math.max(1000, Math.floor(this.options.delivery.leaseMs / 3));
    this.renewTimer = setInterval(() => void this.renewLeases(), every);
    this.renewTimer.unref();
  }

  push(attempts: readonly WebhookAttempt[]): void {
    const overflow: string[] = [];
    let refill = false;
    const elsewhere = this.leases.enabled ? this.leases.servedElsewhere() : null;
    for (const attempt of attempts) {
      const endpoint = this.endpointFor(attempt);
      if (!this.spill.endpoints.has(endpoint) && !elsewhere?.has(endpoint) && this.enqueue(attempt, endpoint)) continue;
      overflow.push(attempt.id);
      if (this.stopped || !this.consume || elsewhere?.has(endpoint)) continue;
      this.spill.mark(endpoint);
      // Spilled behind older attempts while its line has room: nothing running for it would ask for a claim.
      refill ||= this.hasRoomFor(endpoint);
    }
    // What does not fit (or arrives while stopped) stays pending in the store; releasing the lease lets this or
    // any process claim it when there is room.
    if (overflow.length > 0) {
      this.spill.handBack(overflow, () => {
        if (refill && !this.polls.puttingOff) void this.polls.poll();
      });
    }
  }

  processDue(): Promise<number> {
    return this.claims.run();
  }

  wake(at: Date): void {
    // The clock may be a test's; timers run in real time, so wait the clock's delta.
    if (!this.stopped) this.polls.wakeIn(at.getTime() - this.clock.now().getTime());
  }

  whenIdle(): Promise<void> {
    return this.scheduler.whenIdle();
  }

  async stop(timeoutMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.renewTimer) clearInterval(this.renewTimer);
    await this.polls.stop();
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
    this.unwatch?.();
    try {
      // Everything this process still holds: waiting, unfinished, and requests aborted above; and its endpoints.
      await this.store.releaseClaims(this.workerId);
      await this.leases.releaseAll();
    } catch (error) {
      this.logger.warn(`Releasing claims at shutdown failed (they expire after ${this.options.delivery.leaseMs} ms): ${describeError(error)}`);
    }
  }

  /** Queues an attempt again under its endpoint's current key, once its job has ended; hands it back if there is no room. */
  private requeue(attempt: WebhookAttempt, endpoint: string): void {
    setImmediate(() => {
      if (!this.enqueue(attempt, endpoint)) this.spill.handBack([attempt.id]);
    });
  }

  /**
   * Another worker serves this endpoint: this attempt and those waiting for the same endpoint here go back to the
   * store for it (they are left out of this worker's claims while its lease lasts).
   */
  private leaveToOtherWorker(endpoint: string, attemptId: string): void {
    const ids = [attemptId, ...this.scheduler.takeWaitingFor(endpoint).map((job) => job.attempt.id)];
    this.spill.handBack(ids);
  }

  endpointFor(attempt: WebhookAttempt): string {
    const subscription = this.registry.active(attempt.subscriptionId);
    return subscription ? this.endpoints.of(subscription.url) : attempt.subscriptionId;
  }

  enqueue(attempt: WebhookAttempt, endpoint: string): boolean {
    if (!this.accepting) return false;
    this.endpoints.remember(attempt.subscriptionId, endpoint);
    return this.scheduler.enqueue({ attempt, endpoint });
  }

  /**
   * Room to claim spilled attempts back: the endpoint's line half empty, and a useful part of the whole queue
   * free (or any room at all when the line is empty: nothing else would ask for its attempts).
   */
  private hasRoomFor(endpoint: string): boolean {
    const capacity = this.scheduler.capacity;
    if (capacity === 0) return false;
    const waiting = this.scheduler.waitingFor(endpoint);
    return waiting === 0 || (waiting * 2 <= this.maxQueuedPerEndpoint && capacity >= this.refillRoom);
  }

  /**
   * Claims spilled attempts back when one of their endpoints has room (checked as each job starts). While a
   * poll runs this asks for another after it: the running one may have left that endpoint out as full. While a
   * claim is put off, the poll already armed for then does it.
   */
  private refillIfRoom(): void {
    if (this.stopped || this.polls.puttingOff) return;
    for (const endpoint of this.spill.endpoints) {
      if (this.hasRoomFor(endpoint)) {
        void this.polls.poll();
        return;
      }
    }
  }

  private async renewLeases(): Promise<void> {
    if (this.stopped) return;
    await this.leases.renew(this.scheduler.busyEndpoints());
    const ids = this.scheduler.heldIds();
    if (ids.length === 0) return;
    try {
      const now = this.clock.now();
      await this.store.renewClaims(this.workerId, ids, new Date(now.getTime() + this.options.delivery.leaseMs));
    } catch (error) {
      this.logger.warn(`Renewing webhook leases failed: ${describeError(error)}`);
    }
  }
}
