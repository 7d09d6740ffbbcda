import type { WebhookClock } from '../../core/clock.js';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { ResolvedWebhooksOptions } from '../../core/webhooks.options.js';
import type { WebhookStore } from '../../storage/webhook-store.js';
import type { SubscriptionRegistry } from '../../subscriptions/subscription-registry.js';
import type { DeliveryScheduler } from './delivery-scheduler.js';
import type { EndpointKeys } from './endpoint-keys.js';
import type { EndpointLeases } from './endpoint-leases.js';
import type { PollSchedule } from './poll-schedule.js';
import type { Spill } from './spill.js';

/** The most attempts one claim takes. */
export const CLAIM_BATCH = 500;

/** What claims fill: the queue, as long as it takes attempts. */
export interface ClaimTarget {
  readonly workerId: string;
  /** False before the queue starts and once it stops: claims then take nothing. */
  readonly accepting: boolean;
  endpointFor(attempt: WebhookAttempt): string;
  enqueue(attempt: WebhookAttempt, endpoint: string): boolean;
}

/**
 * Claims due attempts from the store into the queue's lines: retries falling due, attempts handed back, and those
 * of processes that died. One claim at a time in a process: two at once would each skip the rows the other
 * locked, and the second one's attempts could overtake the first one's. Endpoints whose lines are full, or that
 * another worker serves, are left out of a claim.
 */
export class DueClaims {
  /** The claim running now, and the one that runs after it. */
  private claiming: Promise<number> | null = null;
  private nextClaiming: Promise<number> | null = null;
  /**
   * Not before this (`performance.now()`) may a claim leave subscriptions out again. On SQLite such a claim walks
   * the due index through every due attempt of those subscriptions (a dead endpoint's backlog, on the event loop),
   * so these claims are spaced to take at most a fifth of the time, and run at least once per poll interval.
   */
  private nextClaimLeavingOut = 0;
  /** When the store was last asked for due attempts (the clock's time), for health checks. */
  lastClaimAt: Date | null = null;

  constructor(
    private readonly target: ClaimTarget,
    private readonly parts: {
      scheduler: DeliveryScheduler;
      spill: Spill;
      leases: EndpointLeases;
      endpoints: EndpointKeys;
      polls: () => PollSchedule;
      store: WebhookStore;
      registry: SubscriptionRegistry;
      clock: WebhookClock;
      options: ResolvedWebhooksOptions;
    },
  ) {}

  /** Claims what is due now; a call made while a claim runs runs once after it (calls made meanwhile share that run). */
  run(): Promise<number> {
    if (!this.claiming) return this.start();
    this.nextClaiming ??= this.claiming
      .catch(() => undefined)
      .then(() => {
        this.nextClaiming = null;
        return this.start();
      });
    return this.nextClaiming;
  }

  private start(): Promise<number> {
    const claiming = this.claim().finally(() => {
      if (this.claiming === claiming) this.claiming = null;
    });
    this.claiming = claiming;
    return claiming;
  }

  private async claim(): Promise<number> {
    const { scheduler, spill, leases, endpoints, store, registry, clock, options } = this.parts;
    const { leaseMs, pollIntervalMs } = options.delivery;
    let queued = 0;
    while (this.target.accepting) {
      const room = Math.min(scheduler.capacity, CLAIM_BATCH);
      if (room === 0) break;
      let handedBack = new Set<string>();
      let attempts: WebhookAttempt[];
      let full: Set<string>;
      try {
        handedBack = await spill.beginClaim();
        const now = clock.now();
        full = scheduler.fullEndpoints();
        // Endpoints another worker serves are left to it, like full ones (but not marked to be claimed back); what was
        // last read of them is read again once per poll interval (their worker may have stopped).
        if (leases.enabled) await leases.recheck(pollIntervalMs);
        const elsewhere = leases.enabled ? leases.servedElsewhere() : new Set<string>();
        const excludeSubscriptions = endpoints.subscriptionsOf(elsewhere.size > 0 ? new Set([...full, ...elsewhere]) : full);
        // Static subscriptions inactive here are other processes' to deliver (each process has its own).
        if (store.shared) excludeSubscriptions.push(...registry.inactiveStaticIds());
        const leavesOut = excludeSubscriptions.length > 0;
        if (leavesOut && performance.now() < this.nextClaimLeavingOut) {
          // Too soon after the last such claim: a poll runs when it may. Marks stay meanwhile.
          for (const endpoint of full) spill.endpoints.add(endpoint);
          this.parts.polls().putOffUntil(this.nextClaimLeavingOut);
          break;
        }
        const started = performance.now();
        attempts = await store.claimDue(this.target.workerId, now, new Date(now.getTime() + leaseMs), room, { excludeSubscriptions });
        this.lastClaimAt = now;
        if (leavesOut) this.nextClaimLeavingOut = performance.now() + Math.min(pollIntervalMs, 4 * (performance.now() - started));
      } finally {
        spill.endClaim(handedBack);
      }
      // Endpoints left out as full may have attempts in the store, and so do those refused below: they keep
      // their marks, and are claimed for when their lines have room.
      const leftBehind = full;
      for (const endpoint of leftBehind) spill.endpoints.add(endpoint);
      const refused: string[] = [];
      const elsewhere = leases.enabled ? leases.servedElsewhere() : null;
      for (const attempt of attempts) {
        const endpoint = this.target.endpointFor(attempt);
        if (elsewhere?.has(endpoint)) {
          endpoints.remember(attempt.subscriptionId, endpoint);
          refused.push(attempt.id);
        } else if (this.target.enqueue(attempt, endpoint)) queued++;
        // Already held here (its lease ran out while it waited): it stays with the job that holds it.
        else if (scheduler.has(attempt.id)) continue;
        else {
          refused.push(attempt.id);
          leftBehind.add(endpoint);
          spill.mark(endpoint);
        }
      }
      if (refused.length > 0) {
        await store.releaseClaims(this.target.workerId, refused);
        // Not on to another claim: it would leave the now full endpoint out, and on SQLite a claim that leaves out a
        // subscription walks the due index through all of that subscription's due attempts (docs/performance.md).
        // Other endpoints' attempts behind these wait for the next poll or refill.
        break;
      }
      if (attempts.length < room) {
        // All that was due is claimed but what was left behind: the other endpoints' new attempts may go straight
        // to their lines again. (Keeping the marks until a claim saw no hand-back would, under steady traffic on
        // an asynchronous store, keep sending every new attempt through the store.)
        for (const endpoint of spill.endpoints) if (!leftBehind.has(endpoint)) spill.endpoints.delete(endpoint);
        // Handed back while the claim ran: claim again at once for those with room; the others keep their marks.
        const fullNow = scheduler.fullEndpoints();
        let claimAgain = false;
        for (const endpoint of handedBack) {
          if (fullNow.has(endpoint)) spill.endpoints.add(endpoint);
          else claimAgain = true;
        }
        if (claimAgain) void this.parts.polls().poll();
        break;
      }
    }
    return queued;
  }
}
