import { Inject, Injectable, Logger } from '@nestjs/common';
import { setImmediate, setTimeout } from 'node:timers';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import { WebhookClock } from '../core/clock.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { SubscriptionStatusMessages, WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';

interface HistoryCheck {
  /** Resolutions arrived that the next check covers. */
  queued: boolean;
  /** Whether any resolution covered by the queued check failed (only failures can trip the all-failed rule). */
  failed: boolean;
  /** When the last check started, and how long it took (real time), to space checks out under load. */
  lastStart: number;
  lastDuration: number;
}

// The timers of `node:timers`, not the globals: fake timers in an application's tests replace the globals, and
// history checks (and `waitForPendingDeliveries()`, which waits for them) must not wait for the test to advance them.
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The next event-loop turn: the resolutions of this one are checked together, cheaper than a check per resolution. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/**
 * The rules that keep a subscription's history bounded and switch off endpoints that keep failing:
 * - history (as in `nti.webhooks`): after an attempt resolves, the oldest resolved attempts are deleted until at most
 *   `limits.attemptLimit` remain; pending ones are never deleted;
 * - all failed (as in `nti.webhooks`): when at least `attemptLimit` attempts are stored and every one failed, deactivate with
 *   "Delivery suspended due to too many delivery failures.";
 * - failing too long: when every try has failed for `limits.disableAfterFailingForMs`, deactivate;
 * - gone: a 410 answer deactivates at once (Standard Webhooks).
 *
 * The history check runs in the background, one loop per subscription: a check covers every resolution that
 * arrived before it started (at least those of one event-loop turn), and checks are spaced so they take at most a
 * fifth of the time (a burst of thousands of resolutions costs a handful of count queries, and no delivery slot
 * waits for one). `whenIdle()` waits for them (`waitForPendingDeliveries` does).
 */
@Injectable()
export class SubscriptionHealth {
  private readonly logger = new Logger('SubscriptionHealth');
  /** Subscriptions with a check loop running, and their state (the entry goes when the loop ends). */
  private readonly checks = new Map<string, HistoryCheck>();
  private idleWaiters: (() => void)[] = [];

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly registry: SubscriptionRegistry,
    private readonly clock: WebhookClock,
  ) {}

  /** After a try: track how long deliveries have been failing, and apply the time rule. */
  async afterTry(subscription: WebhookSubscription, succeeded: boolean): Promise<void> {
    const current = this.registry.active(subscription.id) ?? subscription;
    if (succeeded) {
      if (current.failingSince !== null) await this.subscriptions.setFailingSince(current.id, null);
      return;
    }
    const now = this.clock.now();
    if (current.failingSince === null) {
      await this.subscriptions.setFailingSince(current.id, now);
      return;
    }
    const window = this.options.limits.disableAfterFailingForMs;
    if (window > 0 && now.getTime() - current.failingSince.getTime() >= window) {
      await this.subscriptions.deactivate(current.id, 'failing-too-long', SubscriptionStatusMessages.FailingTooLong);
    }
  }

  /** After an attempt resolved: prune the history, then apply the all-failed rule (in the background). */
  afterResolved(attempt: WebhookAttempt): void {
    const id = attempt.subscriptionId;
    const check = this.checks.get(id);
    if (check) {
      // A loop runs: its next check covers this resolution (a Map lookup per delivery, no promise).
      check.queued = true;
      check.failed ||= attempt.status === 'failed';
      return;
    }
    const state: HistoryCheck = { queued: true, failed: attempt.status === 'failed', lastStart: 0, lastDuration: 0 };
    this.checks.set(id, state);
    void this.checkWhileQueued(id, state);
  }

  /** Whether a history check is queued or running. */
  get busy(): boolean {
    return this.checks.size > 0;
  }

  /** Resolves when no history check is queued or running. */
  whenIdle(): Promise<void> {
    if (this.checks.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** A 410 Gone answer: the receiver says the endpoint no longer exists. */
  async gone(subscription: WebhookSubscription): Promise<void> {
    await this.subscriptions.deactivate(subscription.id, 'gone', SubscriptionStatusMessages.EndpointGone);
  }

  /** One subscription's loop: check, and again while resolutions arrived meanwhile; never throws. */
  private async checkWhileQueued(id: string, state: HistoryCheck): Promise<void> {
    try {
      while (state.queued) {
        // Space checks so they take at most a fifth of the time (they count rows; a large backlog makes that slow).
        const wait = state.lastStart + Math.min(60_000, state.lastDuration * 4) - performance.now();
        await (wait > 1 ? sleep(wait) : nextTurn());
        state.queued = false;
        state.lastStart = performance.now();
        const failed = state.failed;
        state.failed = false;
        try {
          await this.checkHistory(id, failed);
        } catch (error) {
          this.logger.error(`History check of subscription ${id} failed: ${(error as Error)?.message ?? String(error)}`);
        }
        state.lastDuration = performance.now() - state.lastStart;
      }
    } finally {
      this.checks.delete(id);
      if (this.checks.size === 0 && this.idleWaiters.length > 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  private async checkHistory(subscriptionId: string, failed: boolean): Promise<void> {
    const subscription = this.registry.active(subscriptionId) ?? (await this.subscriptions.get(subscriptionId));
    const limit = subscription?.attemptLimit ?? this.options.limits.attemptLimit;
    const counts = await this.store.trimHistory(subscriptionId, limit);
    if (failed && counts.total >= limit && counts.failed === counts.total) {
      await this.subscriptions.deactivate(subscriptionId, 'delivery-failures', SubscriptionStatusMessages.TooManyDeliveryFailures);
    }
  }
}
