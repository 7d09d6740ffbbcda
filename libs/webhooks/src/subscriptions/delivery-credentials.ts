import { Injectable } from '@nestjs/common';
import { WebhookClock } from '../core/clock.js';
import { type SubscriptionCredentials, WebhookStore } from '../storage/webhook-store.js';

/** What one try needs: the secrets that sign now (newest first) and the subscription-defined header values. */
export interface LiveCredentials {
  secrets: string[];
  headers: Record<string, string>;
  /** Why none could be read (the stored value could not be decrypted), when that is the case. */
  unreadable?: string;
}

interface Cached {
  value: LiveCredentials;
  /** The answer holds until the next secret expires (by the library clock). */
  validUntil: number;
}

const MAX_CACHED = 100_000;
const NONE: SubscriptionCredentials = { secrets: [], headers: {} };

/**
 * Credentials of subscriptions as the delivery worker reads them, decrypted once and kept until the subscription
 * changes (the registry forgets them when it applies a change, from this process or another) or a secret expires.
 * Static subscriptions keep theirs here, in memory only.
 */
@Injectable()
export class DeliveryCredentials {
  private readonly statics = new Map<string, SubscriptionCredentials>();
  private readonly cache = new Map<string, Cached>();
  /** Raised by every invalidation: a read that started before one must not be cached after it. */
  private generation = 0;

  constructor(
    private readonly store: WebhookStore,
    private readonly clock: WebhookClock,
  ) {}

  setStatic(id: string, credentials: SubscriptionCredentials): void {
    this.statics.set(id, credentials);
    this.cache.delete(id);
  }

  staticOf(id: string): SubscriptionCredentials | undefined {
    return this.statics.get(id);
  }

  /** Drops what is known of a subscription's credentials (it changed or is gone). */
  forget(id: string): void {
    this.statics.delete(id);
    this.cache.delete(id);
    this.generation++;
  }

  /** Drops the cached answer only (a stored subscription changed). */
  invalidate(id: string): void {
    this.cache.delete(id);
    this.generation++;
  }

  /** The cached answer while it holds, synchronously (every try asks; this spares the hot path a promise). */
  cached(id: string): LiveCredentials | undefined {
    const cached = this.cache.get(id);
    return cached && cached.validUntil > this.clock.now().getTime() ? cached.value : undefined;
  }

  async of(id: string): Promise<LiveCredentials> {
    const cached = this.cached(id);
    if (cached) return cached;
    const generation = this.generation;
    const source = this.statics.get(id) ?? (await this.store.credentials([id])).get(id) ?? NONE;
    const now = this.clock.now().getTime();
    const live = source.secrets.filter((s) => s.expiresAt === null || s.expiresAt.getTime() > now);
    const value: LiveCredentials = { secrets: live.map((s) => s.secret), headers: source.headers, unreadable: source.unreadable };
    const expiries = live.filter((s) => s.expiresAt !== null).map((s) => s.expiresAt!.getTime());
    // Changed while it was read: this answer may be older than the change, so it serves this try only.
    if (generation !== this.generation) return value;
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    this.cache.set(id, { value, validUntil: Math.min(...expiries, Number.POSITIVE_INFINITY) });
    return value;
  }
}
