import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import { WebhookClock } from '../../core/clock.js';
import { WebhookStore } from '../../storage/webhook-store.js';
import { SubscriptionRegistry } from '../../subscriptions/subscription-registry.js';
import { WEBHOOKS_OPTIONS } from '../../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import { DeliveryScheduler } from './delivery-scheduler.js';
import { EndpointLeases } from './endpoint-leases.js';
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
  private pollTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private renewTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** A poll was asked for while one ran: run another when it ends. */
  private pollAgain = false;
  /** Armed when a claim was put off: polls when it may run. */
  private putOffTimer: NodeJS.Timeout | null = null;
  /** The endpoint of each subscription seen, to tell the store which subscriptions to skip when claiming. */
  private readonly endpointBySubscription = new Map<string, string>();
  /** Endpoints with attempts handed back to the store for lack of room, not yet claimed back. */
  private readonly spilled = new Set<string>();
  /** One set per claim in progress: the endpoints handed back since it began (it may not have seen those). */
  private readonly claimsRunning = new Set<Set<string>>();
  /** The claim running now, and the one that runs after it. */
  private claiming: Promise<number> | null = null;
  private nextClaiming: Promise<number> | null = null;
  /** Hand-backs still being written: a claim waits for them, or it would not see those attempts. */
  private readonly handingBack = new Set<Promise<void>>();
  private readonly maxQueuedPerEndpoint: number;
  /**
   * Not before this (`performance.now()`) may a claim leave subscriptions out again. On SQLite such a claim walks
   * the due index through every due attempt of those subscriptions (a dead endpoint's backlog: ~0.5 ms per
   * thousand, on the event loop), so these claims are spaced to take at most a fifth of the time, and at least
   * once per poll interval they run.
   */
  private nextClaimLeavingOut = 0;
  /** Free room in the whole queue worth a claim. */
  private readonly refillRoom: number;
  /** The endpoints this worker serves (one worker per endpoint when processes share the store). */
  private readonly leases: EndpointLeases;
  private unwatch: (() => void) | null = null;

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
    this.scheduler = new DeliveryScheduler({ concurrency, perEndpointConcurrency, maxQueued: maxQueuedAttempts, maxQueuedPerEndpoint }, async ({ attempt, endpoint }, requestDone) => {
      if (this.spilled.size > 0) this.refillIfRoom();
      // Every subscription change committed before this try, in any process, is in the registry from here on: a
      // subscription deactivated, deleted or re-pointed elsewhere gets no try with its old state. When the store
      // cannot be read the try waits (the attempt is claimed again when its lease runs out).
      const fence = this.registry.fence();
      if (fence && !(await fence.then(() => true, () => false))) return;
      const subscription = this.registry.active(attempt.subscriptionId);
      // Not active: nothing is sent (the worker cancels the attempt), so no endpoint is needed.
      if (subscription) {
        // Keyed by the subscription's URL as the registry had it when queued: after a change, it goes to its new line.
        const current = endpointOf(subscription.url);
        if (current !== endpoint) return this.requeue(attempt, current);
        const mine = this.leases.mayServe(endpoint);
        if (mine !== true && !(await mine)) return this.leaveToOtherWorker(endpoint, attempt.id);
      }
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
    // Another process handed attempts back, or wrote some it will not send: claim them now, not at the next poll.
    this.unwatch = this.store.watch((signal) => {
      if (signal !== 'attempts') return;
      // Handed back (by a worker that stopped, perhaps with its endpoints): look again at once.
      this.leases.recheckAll();
      if (!this.putOffTimer) void this.poll();
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
      if (!this.spilled.has(endpoint) && !elsewhere?.has(endpoint) && this.enqueue(attempt, endpoint)) continue;
      overflow.push(attempt.id);
      if (this.stopped || !this.consume || elsewhere?.has(endpoint)) continue;
      this.markSpilled(endpoint);
      // Spilled behind older attempts while its line has room: nothing running for it would ask for a claim.
      refill ||= this.hasRoomFor(endpoint);
    }
    // What does not fit (or arrives while stopped) stays pending in the store; releasing the lease lets this or
    // any process claim it when there is room.
    if (overflow.length > 0) this.handBack(overflow, refill);
  }

  /**
   * Claims what is due, one claim at a time in this process: two claims at once would each skip the rows the
   * other locked, and the second one's attempts could overtake the first one's. A call made while a claim runs
   * runs once after it (calls made meanwhile share that run).
   */
  processDue(): Promise<number> {
    if (!this.claiming) return this.startClaiming();
    this.nextClaiming ??= this.claiming
      .catch(() => undefined)
      .then(() => {
        this.nextClaiming = null;
        return this.startClaiming();
      });
    return this.nextClaiming;
  }

  private startClaiming(): Promise<number> {
    const claiming = this.claimDue().finally(() => {
      if (this.claiming === claiming) this.claiming = null;
    });
    this.claiming = claiming;
    return claiming;
  }

  private async claimDue(): Promise<number> {
    if (!this.consume || this.stopped) return 0;
    let queued = 0;
    for (;;) {
      const room = Math.min(this.scheduler.capacity, CLAIM_BATCH);
      if (room === 0 || this.stopped) break;
      const handedBack = new Set<string>();
      this.claimsRunning.add(handedBack);
      let attempts: WebhookAttempt[];
      let full: Set<string>;
      try {
        // Wait for hand-backs still being written, or the claim would not see those attempts.
        if (this.handingBack.size > 0) await Promise.all(this.handingBack);
        const now = this.clock.now();
        full = this.scheduler.fullEndpoints();
        // Endpoints another worker serves are left to it, like full ones (but not marked to be claimed back); what was
        // last read of them is read again once per poll interval (their worker may have stopped).
        if (this.leases.enabled) await this.leases.recheck(this.options.delivery.pollIntervalMs);
        const elsewhere = this.leases.enabled ? this.leases.servedElsewhere() : new Set<string>();
        const excludeSubscriptions = this.subscriptionsOf(elsewhere.size > 0 ? new Set([...full, ...elsewhere]) : full);
        // Static subscriptions inactive here are other processes' to deliver (each process has its own).
        if (this.store.shared) excludeSubscriptions.push(...this.registry.inactiveStaticIds());
        const leavesOut = excludeSubscriptions.length > 0;
        if (leavesOut && performance.now() < this.nextClaimLeavingOut) {
          // Too soon after the last such claim: a poll runs when it may. Marks stay meanwhile.
          for (const endpoint of full) this.spilled.add(endpoint);
          this.pollWhenClaimsMayRun();
          break;
        }
        const started = performance.now();
        attempts = await this.store.claimDue(this.workerId, now, new Date(now.getTime() + this.options.delivery.leaseMs), room, { excludeSubscriptions });
        if (leavesOut) this.nextClaimLeavingOut = performance.now() + Math.min(this.options.delivery.pollIntervalMs, 4 * (performance.now() - started));
      } finally {
        this.claimsRunning.delete(handedBack);
      }
      // Endpoints left out as full may have attempts in the store, and so do those refused below: they keep
      // their marks, and are claimed for when their lines have room.
      const leftBehind = full;
      for (const endpoint of leftBehind) this.spilled.add(endpoint);
      const refused: string[] = [];
      const elsewhere = this.leases.enabled ? this.leases.servedElsewhere() : null;
      for (const attempt of attempts) {
        const endpoint = this.endpointFor(attempt);
        if (elsewhere?.has(endpoint)) {
          this.endpointBySubscription.set(attempt.subscriptionId, endpoint);
          refused.push(attempt.id);
        } else if (this.enqueue(attempt, endpoint)) queued++;
        // Already held here (its lease ran out while it waited): it stays with the job that holds it.
        else if (this.scheduler.has(attempt.id)) continue;
        else {
          refused.push(attempt.id);
          leftBehind.add(endpoint);
          this.markSpilled(endpoint);
        }
      }
      if (refused.length > 0) {
        await this.store.releaseClaims(this.workerId, refused);
        // Not on to another claim: it would leave the now full endpoint out, and on SQLite a claim that leaves
        // out a subscription walks the due index through all of that subscription's due attempts (~0.5 µs each,
        // measured: 92–103 ms with 200,000 of them). Other endpoints' attempts behind these wait for the next
        // poll or refill.
        break;
      }
      if (attempts.length < room) {
        // All that was due is claimed but what was left behind: the other endpoints' new attempts may go straight
        // to their lines again. (Keeping the marks until a claim saw no hand-back would, under steady traffic on
        // an asynchronous store, keep sending every new attempt through the store.)
        for (const endpoint of this.spilled) if (!leftBehind.has(endpoint)) this.spilled.delete(endpoint);
        // Handed back while the claim ran: claim again at once for those with room; the others keep their marks.
        const fullNow = this.scheduler.fullEndpoints();
        let claimAgain = false;
        for (const endpoint of handedBack) {
          if (fullNow.has(endpoint)) this.spilled.add(endpoint);
          else claimAgain = true;
        }
        if (claimAgain) void this.poll();
        break;
      }
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
    for (const timer of [this.pollTimer, this.wakeTimer, this.putOffTimer]) if (timer) clearTimeout(timer);
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
    this.unwatch?.();
    try {
      // Everything this process still holds: waiting, unfinished, and requests aborted above; and its endpoints.
      await this.store.releaseClaims(this.workerId);
      await this.leases.releaseAll();
    } catch (error) {
      this.logger.warn(`Releasing claims at shutdown failed (they expire after ${this.options.delivery.leaseMs} ms): ${describe(error)}`);
    }
  }

  /** Queues an attempt again under its endpoint's current key, once its job has ended; hands it back if there is no room. */
  private requeue(attempt: WebhookAttempt, endpoint: string): void {
    setImmediate(() => {
      if (!this.enqueue(attempt, endpoint)) this.handBack([attempt.id], false);
    });
  }

  /**
   * Another worker serves this endpoint: this attempt and those waiting for the same endpoint here go back to the
   * store for it (they are left out of this worker's claims while its lease lasts).
   */
  private leaveToOtherWorker(endpoint: string, attemptId: string): void {
    const ids = [attemptId, ...this.scheduler.takeWaitingFor(endpoint).map((job) => job.attempt.id)];
    this.handBack(ids, false);
  }

  /** Subscriptions of these endpoints (whose waiting lines are full: claiming more of theirs would only hand them back). */
  private subscriptionsOf(endpoints: ReadonlySet<string>): string[] {
    if (endpoints.size === 0) return [];
    const ids: string[] = [];
    for (const [subscriptionId, endpoint] of this.endpointBySubscription) if (endpoints.has(endpoint)) ids.push(subscriptionId);
    return ids;
  }

  private endpointFor(attempt: WebhookAttempt): string {
    const subscription = this.registry.active(attempt.subscriptionId);
    return subscription ? endpointOf(subscription.url) : attempt.subscriptionId;
  }

  private enqueue(attempt: WebhookAttempt, endpoint: string): boolean {
    if (this.stopped || !this.consume) return false;
    if (this.endpointBySubscription.size > 100_000) this.endpointBySubscription.clear();
    this.endpointBySubscription.set(attempt.subscriptionId, endpoint);
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
    if (this.stopped || this.putOffTimer) return;
    for (const endpoint of this.spilled) {
      if (this.hasRoomFor(endpoint)) {
        void this.poll();
        return;
      }
    }
  }

  /** The endpoint has attempts handed back to the store; claims in progress may not have seen them. */
  private markSpilled(endpoint: string): void {
    this.spilled.add(endpoint);
    for (const handedBack of this.claimsRunning) handedBack.add(endpoint);
  }

  /** A claim was put off (see `nextClaimLeavingOut`): poll when it may run. One timer at a time. */
  private pollWhenClaimsMayRun(): void {
    if (this.putOffTimer || this.stopped) return;
    this.putOffTimer = setTimeout(
      () => {
        this.putOffTimer = null;
        void this.poll();
      },
      Math.max(1, this.nextClaimLeavingOut - performance.now()),
    );
    this.putOffTimer.unref();
  }

  private handBack(ids: string[], refill: boolean): void {
    const released: Promise<void> = this.store
      .releaseClaims(this.workerId, ids)
      .then(
        () => {
          if (refill && !this.putOffTimer) void this.poll();
        },
        (error: unknown) => {
          this.logger.warn(`Releasing ${ids.length} overflowing claim(s) failed; they expire with their lease: ${describe(error)}`);
        },
      )
      .finally(() => this.handingBack.delete(released));
    this.handingBack.add(released);
  }

  private schedulePoll(delayMs: number): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref();
  }

  private poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        await this.processDue();
      } catch (error) {
        this.logger.warn(`Claiming due webhook attempts failed: ${describe(error)}`);
      } finally {
        this.polling = null;
        const again = this.pollAgain;
        this.pollAgain = false;
        this.schedulePoll(again ? 0 : this.options.delivery.pollIntervalMs);
      }
    })();
    return this.polling;
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
      this.logger.warn(`Renewing webhook leases failed: ${describe(error)}`);
    }
  }
}
