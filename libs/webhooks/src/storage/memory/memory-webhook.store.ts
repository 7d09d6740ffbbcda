import { applyTry } from '../../core/apply-try.js';
import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { AttemptClaim, AttemptCounts, AttemptQuery, AttemptSearch, AttemptTryResult, ClaimOptions, OutboxStats } from '../webhook-store.js';
import { type History, insertSorted } from './attempt-history.js';
import { type DuePlace, DueLine } from './due-line.js';
import { MemorySubscriptionStore } from './memory-subscription.store.js';

interface AttemptEntry {
  attempt: WebhookAttempt;
  leaseOwner: string | null;
  leaseUntil: number;
  /** Its place in the line of claimable attempts, while it has one. */
  due: DuePlace | null;
}

const dueTimeOf = (attempt: WebhookAttempt) => attempt.nextAttemptAt?.getTime() ?? 0;

/**
 * Keeps everything in process memory: the default store, and the one for tests and single-process apps that
 * accept losing pending deliveries on restart. Records are replaced, never mutated, so a caller holding one
 * sees a consistent snapshot.
 */
export class MemoryWebhookStore extends MemorySubscriptionStore {
  private readonly attempts = new Map<string, AttemptEntry>();
  /** Per subscription: attempt ids in creation order, resolved ids for pruning, and running counts. */
  private readonly histories = new Map<string, History>();
  private readonly pending = new Set<string>();
  /** Pending attempts nobody holds (stored unclaimed, released, rescheduled, or their lease ran out). */
  private readonly claimable = new DueLine();
  /** No lease runs out before this: until then a claim need not look for expired ones. */
  private leasesValidUntil = Number.POSITIVE_INFINITY;
  /** `subscriptionId \0 idempotencyKey` of stored attempts published with a key. */
  private readonly idempotencyKeys = new Set<string>();

  async insertAttempts(attempts: readonly WebhookAttempt[], _context?: unknown, claim?: AttemptClaim): Promise<WebhookAttempt[]> {
    const inserted: WebhookAttempt[] = [];
    for (const attempt of attempts) {
      if (attempt.idempotencyKey !== null) {
        const key = `${attempt.subscriptionId}\u0000${attempt.idempotencyKey}`;
        if (this.idempotencyKeys.has(key)) continue;
        this.idempotencyKeys.add(key);
      }
      inserted.push(attempt);
      const entry: AttemptEntry = { attempt: Object.freeze({ ...attempt }), leaseOwner: null, leaseUntil: 0, due: null };
      this.attempts.set(attempt.id, entry);
      const history = this.historyOf(attempt.subscriptionId, true)!;
      history.ids.add(attempt.id);
      history.counts.total++;
      history.counts[attempt.status]++;
      if (attempt.status !== 'pending') insertSorted(history, attempt.id);
      else {
        this.pending.add(attempt.id);
        if (claim) this.lease(entry, claim.workerId, claim.leaseUntil.getTime());
        else this.makeClaimable(entry);
      }
    }
    return inserted;
  }

  async findAttempt(id: string): Promise<WebhookAttempt | null> {
    return this.attempts.get(id)?.attempt ?? null;
  }

  async findAttempts(ids: readonly string[]): Promise<WebhookAttempt[]> {
    return ids.flatMap((id) => this.attempts.get(id)?.attempt ?? []);
  }

  async listAttempts(subscriptionId: string, query: AttemptQuery = {}): Promise<WebhookAttempt[]> {
    const ids = [...(this.historyOf(subscriptionId)?.ids ?? [])].reverse();
    const result: WebhookAttempt[] = [];
    for (const id of ids) {
      if (query.before !== undefined && id >= query.before) continue;
      const attempt = this.attempts.get(id)!.attempt;
      if (query.status && attempt.status !== query.status) continue;
      result.push(attempt);
      if (query.limit !== undefined && result.length >= query.limit) break;
    }
    return result;
  }

  async recordTry(taken: WebhookAttempt, result: AttemptTryResult, now: Date): Promise<WebhookAttempt | null> {
    const id = taken.id;
    const entry = this.attempts.get(id);
    if (!entry || entry.attempt.status !== 'pending' || entry.attempt.tries !== taken.tries) return null;
    const attempt: WebhookAttempt = Object.freeze(applyTry(entry.attempt, result, now));
    entry.attempt = attempt;
    entry.leaseOwner = null;
    entry.leaseUntil = 0;
    if (attempt.status !== 'pending') this.resolve(attempt);
    else this.makeClaimable(entry);
    return attempt;
  }

  async searchAttempts(query: AttemptSearch): Promise<WebhookAttempt[]> {
    const only = query.subscriptionIds ? new Set(query.subscriptionIds) : null;
    const result: WebhookAttempt[] = [];
    // Insertion order is creation order (ids sort by creation time), so newest first is the map read backwards.
    for (const { attempt } of [...this.attempts.values()].reverse()) {
      if (query.limit !== undefined && result.length >= query.limit) break;
      if (query.before !== undefined && attempt.id >= query.before) continue;
      if (only && !only.has(attempt.subscriptionId)) continue;
      if (query.status && attempt.status !== query.status) continue;
      if (query.eventName !== undefined && attempt.eventName !== query.eventName) continue;
      if (query.since && attempt.createdAt < query.since) continue;
      if (query.until && attempt.createdAt >= query.until) continue;
      result.push(attempt);
    }
    return result;
  }

  async outboxStats(): Promise<OutboxStats> {
    let oldest: Date | null = null;
    let due: Date | null = null;
    for (const id of this.pending) {
      const { createdAt, nextAttemptAt } = this.attempts.get(id)!.attempt;
      if (!oldest || createdAt < oldest) oldest = createdAt;
      if (nextAttemptAt && (!due || nextAttemptAt < due)) due = nextAttemptAt;
    }
    return { pending: this.pending.size, oldestPendingAt: oldest, oldestDueAt: due };
  }

  async countAttempts(subscriptionId: string): Promise<AttemptCounts> {
    return { ...(this.historyOf(subscriptionId)?.counts ?? { total: 0, pending: 0, failed: 0, successful: 0 }) };
  }

  async pruneAttempts(subscriptionId: string, keep: number): Promise<number> {
    const history = this.historyOf(subscriptionId);
    if (!history) return 0;
    let removed = 0;
    // `resolved` is in creation order, so the oldest resolved attempts go first; pending ones are never pruned.
    while (history.ids.size > keep && history.head < history.resolved.length) {
      this.forget(history.resolved[history.head++]!);
      removed++;
    }
    if (history.head > 1024 && history.head * 2 > history.resolved.length) {
      history.resolved = history.resolved.slice(history.head);
      history.head = 0;
    }
    return removed;
  }

  async clearAttempts(subscriptionId: string): Promise<number> {
    const history = this.historyOf(subscriptionId);
    if (!history) return 0;
    const removed = history.ids.size;
    for (const id of [...history.ids]) this.forget(id);
    this.histories.delete(subscriptionId);
    return removed;
  }

  private lease(entry: AttemptEntry, workerId: string, until: number): void {
    entry.leaseOwner = workerId;
    entry.leaseUntil = until;
    if (until < this.leasesValidUntil) this.leasesValidUntil = until;
  }

  /** Gives a pending attempt a place in the claimable line, unless it has one for its current due time. */
  private makeClaimable(entry: AttemptEntry): void {
    if (entry.attempt.status !== 'pending') return;
    const at = dueTimeOf(entry.attempt);
    if (entry.due?.at !== at) entry.due = this.claimable.add(entry.attempt.subscriptionId, entry.attempt.id, at);
  }

  /**
   * Lines up the held attempts whose lease has run out (a process that stopped without letting them go), and
   * notes when the next lease runs out: until then there is nothing to find (every lease set lowers that mark).
   */
  private reclaimExpiredLeases(now: number): void {
    let earliest = Number.POSITIVE_INFINITY;
    for (const id of this.pending) {
      const entry = this.attempts.get(id)!;
      if (entry.leaseOwner === null) continue;
      if (entry.leaseUntil <= now) this.makeClaimable(entry);
      else if (entry.leaseUntil < earliest) earliest = entry.leaseUntil;
    }
    this.leasesValidUntil = earliest;
  }

  /** The bookkeeping of one subscription's attempts. */
  private historyOf(subscriptionId: string, create = false): History | undefined {
    let history = this.histories.get(subscriptionId);
    if (!history && create) {
      history = { ids: new Set(), resolved: [], head: 0, counts: { total: 0, pending: 0, failed: 0, successful: 0 } };
      this.histories.set(subscriptionId, history);
    }
    return history;
  }

  /** A pending attempt became resolved. */
  private resolve(attempt: WebhookAttempt): void {
    this.pending.delete(attempt.id);
    const history = this.historyOf(attempt.subscriptionId);
    if (!history) return;
    history.counts.pending--;
    history.counts[attempt.status]++;
    insertSorted(history, attempt.id);
  }

  /**
   * Removes an attempt's entry, unlinking the record from it first. V8 keeps the values of a `Map` that adds and
   * deletes an entry per delivery reachable to young-generation collections for a while (superseded hash tables
   * stay chained to their successors), so many of them were promoted to the old generation, and with them each
   * record's payload and request/response, which then waited for a full collection.
   */
  private release(id: string): void {
    const entry = this.attempts.get(id);
    if (entry) (entry as { attempt: WebhookAttempt | null }).attempt = null;
    this.attempts.delete(id);
  }

  /** Drops an attempt and what indexes it (pruning removes resolved ones from the front of `resolved`). */
  private forget(id: string): void {
    const attempt = this.attempts.get(id)?.attempt;
    if (!attempt) return;
    if (attempt.idempotencyKey != null) this.idempotencyKeys.delete(`${attempt.subscriptionId}\u0000${attempt.idempotencyKey}`);
    this.release(id);
    this.pending.delete(id);
    const history = this.historyOf(attempt.subscriptionId);
    if (history?.ids.delete(id)) {
      history.counts.total--;
      history.counts[attempt.status]--;
    }
  }

  async claimDue(workerId: string, now: Date, leaseUntil: Date, limit: number, options: ClaimOptions = {}): Promise<WebhookAttempt[]> {
    const claimed: WebhookAttempt[] = [];
    if (limit <= 0) return claimed;
    const nowMs = now.getTime();
    if (nowMs >= this.leasesValidUntil) this.reclaimExpiredLeases(nowMs);
    for (const place of this.claimable.due(nowMs, new Set(options.excludeSubscriptions ?? []))) {
      const entry = this.attempts.get(place.id);
      // Forgotten, or given another place since: that place stands for it.
      if (entry?.due !== place) continue;
      entry.due = null;
      // Resolved, or held again (it gets a new place when it is let go, or when that lease runs out).
      if (entry.attempt.status !== 'pending' || (entry.leaseOwner !== null && entry.leaseUntil > nowMs)) continue;
      if (dueTimeOf(entry.attempt) !== place.at) this.makeClaimable(entry);
      else {
        this.lease(entry, workerId, leaseUntil.getTime());
        claimed.push(entry.attempt);
        if (claimed.length >= limit) break;
      }
    }
    return claimed;
  }

  async renewClaims(workerId: string, ids: readonly string[], leaseUntil: Date): Promise<void> {
    for (const id of ids) {
      const entry = this.attempts.get(id);
      // Through lease(): a lease renewed after it ran out must be looked at again when the renewal runs out.
      if (entry?.leaseOwner === workerId) this.lease(entry, workerId, leaseUntil.getTime());
    }
  }

  async releaseClaims(workerId: string, ids?: readonly string[]): Promise<void> {
    for (const id of ids ?? [...this.pending]) {
      const entry = this.attempts.get(id);
      if (entry?.leaseOwner === workerId) {
        entry.leaseOwner = null;
        entry.leaseUntil = 0;
        this.makeClaimable(entry);
      }
    }
  }

  async cancelPending(subscriptionId: string, message: string, now: Date): Promise<WebhookAttempt[]> {
    const cancelled: WebhookAttempt[] = [];
    for (const id of this.historyOf(subscriptionId)?.ids ?? []) {
      const entry = this.attempts.get(id)!;
      if (entry.attempt.status !== 'pending') continue;
      const attempt = Object.freeze({ ...entry.attempt, status: 'failed' as const, message, nextAttemptAt: null, updatedAt: now });
      entry.attempt = attempt;
      entry.leaseOwner = null;
      entry.leaseUntil = 0;
      cancelled.push(attempt);
    }
    for (const attempt of cancelled) this.resolve(attempt);
    return cancelled;
  }
}
