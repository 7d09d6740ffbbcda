import type { WebhookAttempt } from '../../core/webhook-attempt.js';

/** The work a queue holds in this process. */
export interface WebhookDeliveryQueueStats {
  /** Attempts waiting for a slot in this process. */
  queued: number;
  /** Requests in flight from this process. */
  active: number;
  /** Tries whose request is over and whose outcome is being recorded. */
  recording?: number;
  /** When this process last asked the store for due attempts (whether or not it found any); `null` before the first. */
  lastClaimAt?: Date | null;
  /** When the queue started taking work (the library clock's time); `null` before. */
  startedAt?: Date | null;
}

/** Sends one try of an attempt and records it; never throws. Returns the attempt as stored afterwards. */
export type WebhookDeliveryConsumer = (attempt: WebhookAttempt, signal: AbortSignal, requestDone?: () => void) => Promise<WebhookAttempt | null>;

/**
 * Moves committed attempts to the process that sends them. The store stays the source of truth: an attempt is
 * pending there until a try resolves it, and is leased (`workerId`, expiry) while a process holds it, so a queue
 * may lose work in a crash but never an attempt — the lease runs out and any process claims it again.
 *
 * The in-process queue is the default. A shared queue (BullMQ on Redis, or PostgreSQL `FOR UPDATE SKIP LOCKED`
 * claims from several workers) implements the same contract: `push` hands over attempts just committed,
 * `processDue` claims attempts that are due (retries, orphans), `stop` releases what is not finished.
 */
export abstract class WebhookDeliveryQueue {
  /** This process's identity in attempt leases. */
  abstract readonly workerId: string;

  /**
   * Starts consuming: every attempt taken is passed to `consume`, which never throws. `consume` calls
   * `requestDone` once the HTTP exchange is over (before the outcome is recorded), so a queue that counts
   * requests in flight can start the next one while the result is written.
   */
  abstract start(consume: WebhookDeliveryConsumer): void;

  /** Hands over attempts that were just committed, leased to `workerId`. Never throws. */
  abstract push(attempts: readonly WebhookAttempt[]): void;

  /** Claims and queues every attempt due now (what the queue also does on its own); returns how many. */
  abstract processDue(): Promise<number>;

  /** A retry is due at `at`: make sure it is looked at then. */
  abstract wake(at: Date): void;

  /** Resolves when nothing is waiting or in flight here. */
  abstract whenIdle(): Promise<void>;

  /** Stops taking work, lets in-flight requests finish for up to `timeoutMs`, then releases every claim. */
  abstract stop(timeoutMs: number): Promise<void>;

  abstract readonly stats: WebhookDeliveryQueueStats;
}
