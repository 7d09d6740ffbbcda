import type { EntityManager } from 'typeorm';
import { applyTry } from '../../attempts/apply-try.js';
import type { WebhookAttempt } from '../../attempts/webhook-attempt.js';
import type { WebhookSubscription } from '../../subscriptions/webhook-subscription.js';
import {
  type AttemptClaim,
  type ClaimOptions,
  type AttemptCounts,
  type AttemptQuery,
  type AttemptTryResult,
  type StoredSigningSecret,
  type SubscriptionPatch,
  type SubscriptionQuery,
  WebhookStore,
} from '../webhook-store.js';

interface AttemptEntry {
  attempt: WebhookAttempt;
  leaseOwner: string | null;
  leaseUntil: number;
}

/**
 * Keeps everything in process memory: the default store, and the one for tests and single-process apps that
 * accept losing pending deliveries on restart. Records are replaced, never mutated, so a caller holding one
 * sees a consistent snapshot.
 */
export class MemoryWebhookStore extends WebhookStore {
  readonly transactional = false;

  private readonly subscriptions = new Map<string, WebhookSubscription>();
  private readonly secrets = new Map<string, StoredSigningSecret[]>();
  private readonly attempts = new Map<string, AttemptEntry>();
  /** Attempt ids per subscription in creation order (ids are time-sortable and inserted in order). */
  private readonly attemptsBySubscription = new Map<string, Set<string>>();
  private readonly pending = new Set<string>();
  /** `subscriptionId \0 idempotencyKey` of stored attempts published with a key. */
  private readonly idempotencyKeys = new Set<string>();

  sharesTransactionsWith(_manager: EntityManager): boolean {
    return false;
  }

  async insertSubscription(subscription: WebhookSubscription, secret: StoredSigningSecret): Promise<void> {
    this.subscriptions.set(subscription.id, Object.freeze({ ...subscription }));
    this.secrets.set(subscription.id, [Object.freeze({ ...secret })]);
  }

  async updateSubscription(id: string, patch: SubscriptionPatch): Promise<WebhookSubscription | null> {
    const current = this.subscriptions.get(id);
    if (!current) return null;
    const next = Object.freeze({ ...current, ...patch });
    this.subscriptions.set(id, next);
    return next;
  }

  async deleteSubscription(id: string): Promise<boolean> {
    if (!this.subscriptions.delete(id)) return false;
    this.secrets.delete(id);
    await this.clearAttempts(id);
    return true;
  }

  async findSubscription(id: string): Promise<WebhookSubscription | null> {
    return this.subscriptions.get(id) ?? null;
  }

  async listSubscriptions(query: SubscriptionQuery = {}): Promise<WebhookSubscription[]> {
    let all = [...this.subscriptions.values()];
    if (query.ownerId !== undefined) all = all.filter((s) => s.ownerId === query.ownerId);
    const offset = query.offset ?? 0;
    return all.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  }

  async incrementPreconditionFailures(id: string): Promise<number> {
    const current = this.subscriptions.get(id);
    if (!current) return 0;
    const preconditionFailures = current.preconditionFailures + 1;
    this.subscriptions.set(id, Object.freeze({ ...current, preconditionFailures }));
    return preconditionFailures;
  }

  async addSecret(secret: StoredSigningSecret, expireOthersAt: Date): Promise<void> {
    const kept = (this.secrets.get(secret.subscriptionId) ?? []).map((s) =>
      Object.freeze({ ...s, expiresAt: s.expiresAt && s.expiresAt < expireOthersAt ? s.expiresAt : expireOthersAt }),
    );
    this.secrets.set(secret.subscriptionId, [Object.freeze({ ...secret }), ...kept]);
  }

  async signingSecrets(subscriptionIds: readonly string[]): Promise<Map<string, StoredSigningSecret[]>> {
    const result = new Map<string, StoredSigningSecret[]>();
    for (const id of subscriptionIds) {
      const secrets = this.secrets.get(id);
      if (secrets) result.set(id, [...secrets].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()));
    }
    return result;
  }

  async insertAttempts(attempts: readonly WebhookAttempt[], _context?: unknown, claim?: AttemptClaim): Promise<WebhookAttempt[]> {
    const inserted: WebhookAttempt[] = [];
    for (const attempt of attempts) {
      if (attempt.idempotencyKey !== null) {
        const key = `${attempt.subscriptionId}\u0000${attempt.idempotencyKey}`;
        if (this.idempotencyKeys.has(key)) continue;
        this.idempotencyKeys.add(key);
      }
      inserted.push(attempt);
      this.attempts.set(attempt.id, {
        attempt: Object.freeze({ ...attempt }),
        leaseOwner: claim?.workerId ?? null,
        leaseUntil: claim?.leaseUntil.getTime() ?? 0,
      });
      let ids = this.attemptsBySubscription.get(attempt.subscriptionId);
      if (!ids) this.attemptsBySubscription.set(attempt.subscriptionId, (ids = new Set()));
      ids.add(attempt.id);
      if (attempt.status === 'pending') this.pending.add(attempt.id);
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
    const ids = [...(this.attemptsBySubscription.get(subscriptionId) ?? [])].reverse();
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
    this.attempts.set(id, { attempt, leaseOwner: null, leaseUntil: 0 });
    if (attempt.status !== 'pending') this.pending.delete(id);
    return attempt;
  }

  async countAttempts(subscriptionId: string): Promise<AttemptCounts> {
    const counts: AttemptCounts = { total: 0, pending: 0, failed: 0, successful: 0 };
    for (const id of this.attemptsBySubscription.get(subscriptionId) ?? []) {
      counts.total++;
      counts[this.attempts.get(id)!.attempt.status]++;
    }
    return counts;
  }

  async pruneAttempts(subscriptionId: string, keep: number): Promise<number> {
    const ids = this.attemptsBySubscription.get(subscriptionId);
    if (!ids || ids.size <= keep) return 0;
    let removed = 0;
    for (const id of [...ids]) {
      if (ids.size <= keep) break;
      if (this.attempts.get(id)!.attempt.status === 'pending') continue;
      ids.delete(id);
      this.forget(id);
      removed++;
    }
    return removed;
  }

  async clearAttempts(subscriptionId: string): Promise<number> {
    const ids = this.attemptsBySubscription.get(subscriptionId);
    if (!ids) return 0;
    for (const id of ids) this.forget(id);
    this.attemptsBySubscription.delete(subscriptionId);
    return ids.size;
  }

  /** Drops an attempt and what indexes it. */
  private forget(id: string): void {
    const attempt = this.attempts.get(id)?.attempt;
    if (attempt?.idempotencyKey != null) this.idempotencyKeys.delete(`${attempt.subscriptionId}\u0000${attempt.idempotencyKey}`);
    this.attempts.delete(id);
    this.pending.delete(id);
  }

  async claimDue(workerId: string, now: Date, leaseUntil: Date, limit: number, options: ClaimOptions = {}): Promise<WebhookAttempt[]> {
    const nowMs = now.getTime();
    const excluded = new Set(options.excludeSubscriptions ?? []);
    const due: AttemptEntry[] = [];
    for (const id of this.pending) {
      const entry = this.attempts.get(id)!;
      if (excluded.has(entry.attempt.subscriptionId)) continue;
      const nextAt = entry.attempt.nextAttemptAt?.getTime() ?? 0;
      if (nextAt <= nowMs && (entry.leaseOwner === null || entry.leaseUntil <= nowMs)) due.push(entry);
    }
    due.sort((a, b) => (a.attempt.nextAttemptAt?.getTime() ?? 0) - (b.attempt.nextAttemptAt?.getTime() ?? 0));
    return due.slice(0, limit).map((entry) => {
      entry.leaseOwner = workerId;
      entry.leaseUntil = leaseUntil.getTime();
      return entry.attempt;
    });
  }

  async renewClaims(workerId: string, ids: readonly string[], leaseUntil: Date): Promise<void> {
    for (const id of ids) {
      const entry = this.attempts.get(id);
      if (entry?.leaseOwner === workerId) entry.leaseUntil = leaseUntil.getTime();
    }
  }

  async releaseClaims(workerId: string, ids?: readonly string[]): Promise<void> {
    for (const id of ids ?? [...this.pending]) {
      const entry = this.attempts.get(id);
      if (entry?.leaseOwner === workerId) {
        entry.leaseOwner = null;
        entry.leaseUntil = 0;
      }
    }
  }

  async nextDueAt(): Promise<Date | null> {
    let min: number | null = null;
    for (const id of this.pending) {
      const t = this.attempts.get(id)!.attempt.nextAttemptAt?.getTime() ?? 0;
      if (min === null || t < min) min = t;
    }
    return min === null ? null : new Date(min);
  }

  async cancelPending(subscriptionId: string, message: string, now: Date): Promise<WebhookAttempt[]> {
    const cancelled: WebhookAttempt[] = [];
    for (const id of this.attemptsBySubscription.get(subscriptionId) ?? []) {
      const entry = this.attempts.get(id)!;
      if (entry.attempt.status !== 'pending') continue;
      const attempt = Object.freeze({ ...entry.attempt, status: 'failed' as const, message, nextAttemptAt: null, updatedAt: now });
      this.attempts.set(id, { attempt, leaseOwner: null, leaseUntil: 0 });
      this.pending.delete(id);
      cancelled.push(attempt);
    }
    return cancelled;
  }
}
