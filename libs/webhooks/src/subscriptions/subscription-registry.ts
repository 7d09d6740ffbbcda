import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import type { EventScopes } from '../core/webhook-shipment.js';
import { ScopedSubscriptionIndex } from '../matching/scoped-subscription-index.js';
import { WebhookPayloadTypes } from '../payloads/webhook-payload-types.js';
import { type StoreWriteContext, type SubscriptionChanges, WebhookStore } from '../storage/webhook-store.js';
import { DeliveryCredentials } from './delivery-credentials.js';
import { RegistrySync } from './registry-sync.js';
import { registryEntry } from './subscription-snapshot.js';

/** How often a process that neither publishes nor delivers reads the registry version anyway (it stays warm). */
const REGISTRY_REFRESH_MS = 5000;
const MAX_REMEMBERED_DELETES = 100_000;

/**
 * The subscriptions an event can go to, in memory: the static ones of this process and the active stored ones,
 * indexed by event and payload type. Stored subscriptions may be changed by other processes too: the registry
 * follows the store's version (see `RegistrySync`), and every change it applies drops the cached credentials.
 * Its entries are frozen and shared without copying; callers outside the library get snapshots.
 */
@Injectable()
export class SubscriptionRegistry implements BeforeApplicationShutdown {
  private readonly logger = new Logger('WebhookSubscriptionRegistry');
  private readonly statics = new Map<string, WebhookSubscription>();
  /** The revision of each stored subscription applied, and the version of each delete. */
  private readonly storedRevisions = new Map<string, number>();
  private readonly deletedAt = new Map<string, number>();
  private readonly sync: RegistrySync;
  private readonly index: ScopedSubscriptionIndex;
  private refreshTimer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;

  constructor(
    private readonly store: WebhookStore,
    private readonly credentials: DeliveryCredentials,
    payloadTypes: WebhookPayloadTypes,
  ) {
    this.index = new ScopedSubscriptionIndex(payloadTypes);
    this.sync = new RegistrySync(store, (changes) => this.applyChanges(changes));
  }

  /** Reads the active stored subscriptions, then follows other processes' changes when the store is shared. */
  async load(): Promise<void> {
    await this.sync.refresh();
    this.logger.log(`Webhook registry ready: ${this.statics.size} static, ${this.storedRevisions.size} stored subscription(s)`);
    if (this.store.shared) this.followOtherProcesses();
  }

  beforeApplicationShutdown(): void {
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    this.unwatch?.();
  }

  // ---------------------------------------------------------------- queries

  /**
   * The entries of active subscriptions whose events and payload type match, global ones first, then those of the
   * scopes the event reaches from the root down; not copied (they are frozen).
   */
  match(eventName: string, payload: unknown, scopes?: EventScopes): WebhookSubscription[] {
    return this.index.match(eventName, payload, scopes);
  }

  /** The entry of an active subscription (no I/O, not copied), or undefined when inactive. */
  active(id: string): WebhookSubscription | undefined {
    return this.index.get(id);
  }

  isActive(id: string): boolean {
    return this.index.has(id);
  }

  /** Ids of static subscriptions that are not active in this process. */
  inactiveStaticIds(): string[] {
    const ids: string[] = [];
    for (const id of this.statics.keys()) if (!this.index.has(id)) ids.push(id);
    return ids;
  }

  /** The registry version this process's registry is at (see `RegistrySync`). */
  get version(): number {
    return this.sync.version;
  }

  /** Reads and applies the subscription changes committed since, inside `context.manager`'s transaction when given. */
  refresh(context?: StoreWriteContext): Promise<void> {
    return this.sync.refresh(context);
  }

  /**
   * Resolves once every subscription change committed before the call is in the registry (stores shared by
   * processes); `undefined` when it is known to be so already, without waiting.
   */
  fence(): Promise<void> | undefined {
    return this.store.shared ? this.sync.fence() : undefined;
  }

  // ---------------------------------------------------------------- static subscriptions

  static(id: string): WebhookSubscription | undefined {
    return this.statics.get(id);
  }

  staticSubscriptions(): WebhookSubscription[] {
    return [...this.statics.values()];
  }

  /** Registers a static subscription (active) or replaces its entry (keeping it active or not). */
  setStatic(subscription: WebhookSubscription): void {
    const entry = registryEntry(subscription);
    const added = !this.statics.has(entry.id);
    this.statics.set(entry.id, entry);
    if (added) this.index.add(entry);
    else this.index.refresh(entry);
  }

  /** Makes a static subscription receive events again, or stop; false when it already did (or did not). */
  enableStatic(id: string, enabled: boolean): boolean {
    const entry = this.statics.get(id);
    if (!entry) return false;
    return enabled ? this.index.add(entry) : this.index.remove(id);
  }

  deleteStatic(id: string): void {
    this.index.remove(id);
    this.statics.delete(id);
    this.credentials.forget(id);
  }

  // ---------------------------------------------------------------- stored subscriptions

  /** A change this process committed: into the registry at once, and counted as read when nothing came between. */
  applyOwn(subscription: WebhookSubscription): void {
    this.applyStored(subscription);
    this.sync.noteOwnChange(subscription.revision);
  }

  /** A delete this process committed at `version`. */
  applyOwnDelete(id: string, version: number): void {
    this.forgetStored(id, version);
    this.sync.noteOwnChange(version);
  }

  /** A stored subscription as of its revision: registered when active, dropped when not; older news is ignored. */
  applyStored(subscription: WebhookSubscription): void {
    if (this.deletedAt.has(subscription.id)) return;
    const known = this.storedRevisions.get(subscription.id);
    if (known !== undefined && known > subscription.revision) return;
    if (known === subscription.revision && this.index.has(subscription.id) === subscription.active) return;
    this.storedRevisions.set(subscription.id, subscription.revision);
    this.credentials.invalidate(subscription.id);
    const entry = registryEntry(subscription);
    if (!entry.active) this.index.remove(entry.id);
    else if (!this.index.add(entry)) this.index.refresh(entry);
  }

  /** Applies what `RegistrySync` read from the store (this process's changes and other processes'). */
  private applyChanges(changes: SubscriptionChanges): void {
    if (changes.complete) {
      const present = new Set(changes.changed.map((s) => s.id));
      // A subscription created after the read began has a later revision: the read does not know it yet.
      for (const [id, revision] of this.storedRevisions) if (!present.has(id) && revision <= changes.version) this.forgetStored(id, changes.version);
    }
    for (const id of changes.deleted) this.forgetStored(id, changes.version);
    for (const subscription of changes.changed) this.applyStored(subscription);
  }

  private forgetStored(id: string, version: number): void {
    this.storedRevisions.delete(id);
    if (this.deletedAt.size >= MAX_REMEMBERED_DELETES) this.deletedAt.clear();
    this.deletedAt.set(id, version);
    this.index.remove(id);
    this.credentials.forget(id);
  }

  /** Reads changes early when another process signals one (PostgreSQL), and every few seconds anyway. */
  private followOtherProcesses(): void {
    const refresh = () =>
      void this.sync.refresh().catch((error: unknown) => this.logger.warn(`Reading subscription changes failed: ${(error as Error)?.message ?? String(error)}`));
    this.unwatch = this.store.watch((signal) => {
      if (signal === 'registry') refresh();
    });
    this.refreshTimer = setInterval(() => {
      void this.store.registryVersion().then(
        (version) => version !== this.sync.version && refresh(),
        () => undefined,
      );
    }, REGISTRY_REFRESH_MS);
    this.refreshTimer.unref();
  }
}
