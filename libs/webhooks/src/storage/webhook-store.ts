import type { BuiltDeclaration, DeclarationSyncResult } from './declaration-plan.js';
import type { WebhookEntityManager } from '../core/webhook-entity-manager.js';
import type {
  WebhookAttempt,
  WebhookAttemptRequest,
  WebhookAttemptResponse,
  WebhookAttemptStatus,
  WebhookAttemptTry,
} from '../core/webhook-attempt.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import type { WebhookProgressListener } from '../core/operation-progress.js';
import type { AttemptCounts, AttemptQuery, AttemptSearch, OutboxStats } from './attempt-queries.js';
import { countSubscriptionsByPage, type SubscriptionCounts, type SubscriptionQuery } from './subscription-queries.js';

export type { AttemptCounts, AttemptQuery, AttemptSearch, OutboxStats } from './attempt-queries.js';
export type { SubscriptionCounts, SubscriptionPosition, SubscriptionQuery } from './subscription-queries.js';

/** A stored signing secret of a subscription. `expiresAt` is set on old secrets during a rotation overlap. */
export interface StoredSigningSecret {
  id: string;
  subscriptionId: string;
  /** The `whsec_…` secret in clear; stores encrypt it at rest. */
  secret: string;
  createdAt: Date;
  expiresAt: Date | null;
}

/** What only the delivery worker reads: signing secrets and subscription-defined header values. */
export interface SubscriptionCredentials {
  /** Newest first; expired ones included (the caller filters by its clock). */
  secrets: StoredSigningSecret[];
  headers: Record<string, string>;
  /** Set when the stored credentials could not be read (for example decrypted with none of the configured keys). */
  unreadable?: string;
}

/** The fields of a stored subscription a change may set. */
export type SubscriptionPatch = {
  -readonly [K in Exclude<keyof WebhookSubscription, 'id' | 'source' | 'createdAt' | 'ownerId' | 'revision'>]?: WebhookSubscription[K];
};

/** Writes that `updateSubscription` makes in the same transaction as the patch. */
export interface SubscriptionUpdateOptions {
  /** New values of the subscription-defined headers. */
  headers?: Record<string, string>;
  /** Resolves every pending attempt of the subscription as failed with this message (a deactivation). */
  cancelPending?: { message: string; now: Date };
}

/** The stored subscriptions that changed after a registry version. */
export interface SubscriptionChanges {
  /** The registry version the reader is at after applying these changes. */
  version: number;
  /** Created or changed subscriptions (every stored one when `complete`). */
  changed: WebhookSubscription[];
  /** Ids of deleted subscriptions. */
  deleted: string[];
  /** `changed` is the whole set: the reader drops what is not in it. */
  complete: boolean;
}

/** A phase-1 write: attempts of events matched against the registry at `registryVersion`. */
export interface OutboxWrite {
  attempts: readonly WebhookAttempt[];
  context?: StoreWriteContext;
  /** Lease the attempts to this worker (it sends them at once). */
  claim?: AttemptClaim;
  /**
   * The registry version the attempts were matched at. The store writes nothing unless it is still at that
   * version, and (on a shared database) keeps it there until the write's transaction ends.
   */
  registryVersion?: number;
}

/** What an outbox write did: the registry version it saw, and the attempts it stored. */
export interface OutboxWriteResult {
  /** The registry version during the write; when it is not `write.registryVersion`, nothing was written. */
  registryVersion: number;
  /** Attempts written; idempotency hits are left out. */
  inserted: WebhookAttempt[];
}

/** Who sends to an endpoint now. */
export interface EndpointLease {
  workerId: string;
  expiresAt: number;
}

/** What a store tells the processes that share it: new unleased attempts, or a subscription change. */
export type StoreSignal = 'attempts' | 'registry';

/** The outcome of one try, written back by the delivery worker. */
export interface AttemptTryResult {
  /** New status; `pending` means another try is scheduled at `nextAttemptAt`. */
  status: WebhookAttemptStatus;
  message: string;
  request: WebhookAttemptRequest | null;
  response: WebhookAttemptResponse | null;
  try: WebhookAttemptTry;
  nextAttemptAt: Date | null;
  exception: string | null;
}

/**
 * Options of a write that may join the caller's unit of work. With the TypeORM store, `manager` is the
 * transactional `EntityManager` whose transaction the rows join (the outbox); other stores ignore it.
 */
export interface StoreWriteContext {
  manager?: WebhookEntityManager;
}

/** Options of `claimDue`. */
export interface ClaimOptions {
  /** Leave attempts of these subscriptions alone (their endpoints have no room right now). */
  excludeSubscriptions?: readonly string[];
}

/** A lease on attempts: who holds them and until when. */
export interface AttemptClaim {
  workerId: string;
  leaseUntil: Date;
}

/**
 * Persistence of subscriptions, their signing secrets and their delivery attempts. The library ships a
 * memory store and a TypeORM store; an application may provide its own by overriding this provider.
 */
export abstract class WebhookStore {
  /** Opens connections and checks the schema; called once before first use. */
  initialize(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes what `initialize` opened. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /**
   * Re-encrypts every stored signing secret with the current encryption key (after adding a new key first in
   * `secrets.encryptionKeys`); returns how many subscriptions changed. Stores without encryption return 0.
   * `onProgress` hears how many subscriptions were looked at, of all.
   */
  reencryptSecrets(_onProgress?: WebhookProgressListener): Promise<number> {
    return Promise.resolve(0);
  }

  /** True when this store writes through the given TypeORM `EntityManager`'s database. */
  abstract sharesTransactionsWith(manager: WebhookEntityManager): boolean;

  /**
   * True when other processes may use the same data (a database): subscriptions may change under this process,
   * so the registry follows the store's version, and endpoint leases are taken. False for the memory store.
   */
  get shared(): boolean {
    return false;
  }

  // The registry version: raised by every committed subscription change.
  /**
   * The version now. Inside a transaction of the store's database (`context.manager`) a shared store also keeps
   * it from changing until that transaction ends.
   */
  abstract registryVersion(context?: StoreWriteContext): Promise<number>;
  /** The version now, read synchronously where the store can (SQLite); `undefined` where it cannot. */
  registryVersionNow(): number | undefined {
    return undefined;
  }
  /** What changed after `since` (`-1`: everything), read through `context.manager` when given. */
  abstract subscriptionChanges(since: number, context?: StoreWriteContext): Promise<SubscriptionChanges>;

  // Subscriptions (persistent ones; static subscriptions live in memory in the manager). Each write raises the
  // registry version in its own transaction and stamps the subscription's `revision` with it.
  abstract insertSubscription(subscription: WebhookSubscription, credentials: SubscriptionCredentials): Promise<WebhookSubscription>;
  abstract updateSubscription(id: string, patch: SubscriptionPatch, options?: SubscriptionUpdateOptions): Promise<WebhookSubscription | null>;
  /** Deletes a subscription with its attempts; returns the registry version of the delete, or null if it did not exist. */
  abstract deleteSubscription(id: string): Promise<number | null>;
  abstract findSubscription(id: string): Promise<WebhookSubscription | null>;
  abstract listSubscriptions(query?: SubscriptionQuery): Promise<WebhookSubscription[]>;
  /**
   * How many stored subscriptions are active, failing (active, with `failingSince` set) and inactive. Stores
   * override it with one grouped query; this default reads every subscription page by page.
   */
  countSubscriptions(): Promise<SubscriptionCounts> {
    return countSubscriptionsByPage((query) => this.listSubscriptions(query));
  }
  /** Adds one to the subscription's precondition-failure counter and returns the new value (not a registry change). */
  abstract incrementPreconditionFailures(id: string): Promise<number>;

  // Credentials (kept encrypted at rest by stores that persist them).
  /** Adds a signing secret; returns the subscription's new revision, or null if it does not exist. */
  abstract addSecret(secret: StoredSigningSecret, expireOthersAt: Date): Promise<number | null>;
  abstract credentials(subscriptionIds: readonly string[]): Promise<Map<string, SubscriptionCredentials>>;

  // Attempts (of static and persistent subscriptions alike).
  /**
   * Inserts new attempts, leased to `claim.workerId` when given (the fast path sends them at once), and returns
   * those inserted: an attempt whose (subscription, idempotency key) already exists is skipped.
   */
  abstract insertAttempts(
    attempts: readonly WebhookAttempt[],
    context?: StoreWriteContext,
    claim?: AttemptClaim,
  ): Promise<WebhookAttempt[]>;
  /**
   * Phase 1's write: `insertAttempts`, unless the registry is no longer at `write.registryVersion` (then nothing is
   * written and the caller matches again). Stores that are not shared have one registry, this process's.
   */
  async writeOutbox(write: OutboxWrite): Promise<OutboxWriteResult> {
    const inserted = write.attempts.length > 0 ? await this.insertAttempts(write.attempts, write.context, write.claim) : [];
    return { registryVersion: write.registryVersion ?? (await this.registryVersion()), inserted };
  }
  abstract findAttempt(id: string): Promise<WebhookAttempt | null>;
  abstract findAttempts(ids: readonly string[]): Promise<WebhookAttempt[]>;
  /** Attempts of a subscription, newest first. */
  abstract listAttempts(subscriptionId: string, query?: AttemptQuery): Promise<WebhookAttempt[]>;
  /**
   * Applies a try's outcome to `current` (the attempt as the worker took it) if it is still pending at the
   * same try count; returns the updated attempt, or `null` when it had been resolved, deleted or tried by
   * someone else meanwhile, so an attempt resolves exactly once.
   */
  abstract recordTry(current: WebhookAttempt, result: AttemptTryResult, now: Date): Promise<WebhookAttempt | null>;
  abstract countAttempts(subscriptionId: string): Promise<AttemptCounts>;
  /** Attempts across subscriptions, newest first (recent deliveries, filtered). */
  abstract searchAttempts(query: AttemptSearch): Promise<WebhookAttempt[]>;
  /** How many attempts wait to be sent, and since when the oldest has waited. */
  abstract outboxStats(): Promise<OutboxStats>;
  /** Deletes the oldest resolved attempts until at most `keep` attempts remain; pending ones are never pruned. */
  abstract pruneAttempts(subscriptionId: string, keep: number): Promise<number>;
  /**
   * The history rule in one call: deletes the oldest resolved attempts until at most `limit` attempts remain
   * (pending ones are never deleted, so more may remain), and returns the counts afterwards. Stores override
   * it to avoid counting rows they do not need to: `pending` (and so `total`) may be counted only up to
   * `limit`, since beyond that the rule deletes every resolved attempt anyway.
   */
  async trimHistory(subscriptionId: string, limit: number): Promise<AttemptCounts> {
    const counts = await this.countAttempts(subscriptionId);
    if (counts.total <= limit) return counts;
    await this.pruneAttempts(subscriptionId, limit);
    return this.countAttempts(subscriptionId);
  }

  /** Deletes every attempt of a subscription (`nti.webhooks`' `clear()`). */
  abstract clearAttempts(subscriptionId: string): Promise<number>;

  // Claims: the outbox is the source of truth; a worker leases due attempts before sending them.
  /**
   * Leases up to `limit` pending attempts that are due at `now` and not leased by a live worker (no lease,
   * or an expired one) to `workerId` until `leaseUntil`, oldest due first, and returns them.
   */
  abstract claimDue(workerId: string, now: Date, leaseUntil: Date, limit: number, options?: ClaimOptions): Promise<WebhookAttempt[]>;
  /** Extends the lease of attempts this worker still holds. */
  abstract renewClaims(workerId: string, ids: readonly string[], leaseUntil: Date): Promise<void>;
  /** Gives up this worker's leases (all of them, or only `ids`) so any worker can claim them at once. */
  abstract releaseClaims(workerId: string, ids?: readonly string[]): Promise<void>;
  /** Resolves every pending attempt of a subscription as failed with `message`; returns them. */
  abstract cancelPending(subscriptionId: string, message: string, now: Date): Promise<WebhookAttempt[]>;

  // Endpoint leases: one worker sends to an endpoint at a time (shared stores only).
  /**
   * Takes or renews the leases of `endpoints` for `workerId` until `until`, where no other worker holds a live one,
   * and returns who holds each lease afterwards.
   */
  async acquireEndpoints(workerId: string, endpoints: readonly string[], _now: Date, until: Date): Promise<Map<string, EndpointLease>> {
    return new Map(endpoints.map((endpoint) => [endpoint, { workerId, expiresAt: until.getTime() }]));
  }

  /** Gives up this worker's endpoint leases (all of them, or only `endpoints`). */
  async releaseEndpoints(_workerId: string, _endpoints?: readonly string[]): Promise<void> {}

  /**
   * Calls `listener` when another process signals new unleased attempts or a subscription change (PostgreSQL
   * `LISTEN`); returns a function that stops listening. A hint to act early, never the only way to learn of
   * either: stores without signals do nothing.
   */
  watch(_listener: (signal: StoreSignal) => void): () => void {
    return () => undefined;
  }

  /** The generation and the declaration keys of the last sync of `forRoot({ declaredSubscriptions })`. */
  declarationState(): Promise<{ generation: number; keys: string[] }> {
    return Promise.reject(new Error(`${this.constructor.name} does not keep declared subscriptions`));
  }

  /** Syncs the declared subscriptions with `keys` in one transaction, as `planDeclarations` says; writes nothing when nothing changes. */
  syncDeclarations(_keys: readonly string[], _built: ReadonlyMap<string, BuiltDeclaration>, _off: { message: string; now: Date }): Promise<DeclarationSyncResult> {
    return Promise.reject(new Error(`${this.constructor.name} does not keep declared subscriptions`));
  }
}
