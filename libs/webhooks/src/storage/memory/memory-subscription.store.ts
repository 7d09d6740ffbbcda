import type { WebhookEntityManager } from '../../core/webhook-entity-manager.js';
import { type BuiltDeclaration, type DeclarationSyncResult, planDeclarations } from '../declaration-plan.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import {
  type StoredSigningSecret,
  type SubscriptionChanges,
  type SubscriptionCounts,
  type SubscriptionCredentials,
  type SubscriptionPatch,
  type SubscriptionPosition,
  type SubscriptionQuery,
  type SubscriptionUpdateOptions,
  WebhookStore,
} from '../webhook-store.js';
import { subscriptionState } from '../subscription-queries.js';

/** Creation order, as the TypeORM store lists: `createdAt`, then `id`. */
function byPosition(a: SubscriptionPosition, b: SubscriptionPosition): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The memory store's subscriptions, their secrets and header values, and the registry version their changes raise. */
export abstract class MemorySubscriptionStore extends WebhookStore {
  protected readonly subscriptions = new Map<string, WebhookSubscription>();
  protected readonly secrets = new Map<string, StoredSigningSecret[]>();
  protected readonly headers = new Map<string, Record<string, string>>();
  /** The registry version: raised by every subscription change. */
  protected version = 0;
  /** Declared subscriptions: the declaration key of each, and the last sync's generation and keys. */
  private readonly declaredKeys = new Map<string, string>();
  private declarations: { generation: number; keys: string[] } = { generation: 0, keys: [] };
  /** Deleted subscription ids and the version of their delete. */
  protected readonly tombstones = new Map<string, number>();

  sharesTransactionsWith(_manager: WebhookEntityManager): boolean {
    return false;
  }

  async registryVersion(): Promise<number> {
    return this.version;
  }

  async subscriptionChanges(since: number): Promise<SubscriptionChanges> {
    const complete = since < 0;
    return {
      version: this.version,
      changed: [...this.subscriptions.values()].filter((s) => complete || s.revision > since),
      deleted: complete ? [] : [...this.tombstones].filter(([, revision]) => revision > since).map(([id]) => id),
      complete,
    };
  }

  async insertSubscription(subscription: WebhookSubscription, credentials: SubscriptionCredentials): Promise<WebhookSubscription> {
    const stored = Object.freeze({ ...subscription, revision: ++this.version });
    this.subscriptions.set(subscription.id, stored);
    this.secrets.set(subscription.id, credentials.secrets.map((s) => Object.freeze({ ...s })));
    this.headers.set(subscription.id, { ...credentials.headers });
    return stored;
  }

  async updateSubscription(id: string, patch: SubscriptionPatch, options: SubscriptionUpdateOptions = {}): Promise<WebhookSubscription | null> {
    const current = this.subscriptions.get(id);
    if (!current) return null;
    const next = Object.freeze({ ...current, ...patch, revision: ++this.version });
    this.subscriptions.set(id, next);
    if (options.headers) this.headers.set(id, { ...options.headers });
    if (options.cancelPending) await this.cancelPending(id, options.cancelPending.message, options.cancelPending.now);
    return next;
  }

  async deleteSubscription(id: string): Promise<number | null> {
    if (!this.subscriptions.delete(id)) return null;
    this.declaredKeys.delete(id);
    this.secrets.delete(id);
    this.headers.delete(id);
    await this.clearAttempts(id);
    this.tombstones.set(id, ++this.version);
    return this.version;
  }

  async findSubscription(id: string): Promise<WebhookSubscription | null> {
    return this.subscriptions.get(id) ?? null;
  }

  async listSubscriptions(query: SubscriptionQuery = {}): Promise<WebhookSubscription[]> {
    let all = [...this.subscriptions.values()].sort(byPosition);
    if (query.ownerId !== undefined) all = all.filter((s) => s.ownerId === query.ownerId);
    if (query.scope !== undefined) all = all.filter((s) => s.scope === query.scope);
    const after = query.after;
    if (after !== undefined) all = all.filter((s) => byPosition(s, after) > 0);
    const offset = query.offset ?? 0;
    return all.slice(offset, query.limit === undefined ? undefined : offset + query.limit);
  }

  override async countSubscriptions(): Promise<SubscriptionCounts> {
    const counts: SubscriptionCounts = { active: 0, failing: 0, inactive: 0 };
    for (const subscription of this.subscriptions.values()) counts[subscriptionState(subscription)]++;
    return counts;
  }

  async incrementPreconditionFailures(id: string): Promise<number> {
    const current = this.subscriptions.get(id);
    if (!current) return 0;
    const preconditionFailures = current.preconditionFailures + 1;
    this.subscriptions.set(id, Object.freeze({ ...current, preconditionFailures }));
    return preconditionFailures;
  }

  async addSecret(secret: StoredSigningSecret, expireOthersAt: Date): Promise<number | null> {
    const current = this.subscriptions.get(secret.subscriptionId);
    if (!current) return null;
    const kept = (this.secrets.get(secret.subscriptionId) ?? []).map((s) =>
      Object.freeze({ ...s, expiresAt: s.expiresAt && s.expiresAt < expireOthersAt ? s.expiresAt : expireOthersAt }),
    );
    this.secrets.set(secret.subscriptionId, [Object.freeze({ ...secret }), ...kept]);
    this.subscriptions.set(current.id, Object.freeze({ ...current, revision: ++this.version }));
    return this.version;
  }

  async credentials(subscriptionIds: readonly string[]): Promise<Map<string, SubscriptionCredentials>> {
    const result = new Map<string, SubscriptionCredentials>();
    for (const id of subscriptionIds) {
      const secrets = this.secrets.get(id);
      if (!secrets) continue;
      result.set(id, {
        secrets: [...secrets].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()),
        headers: { ...(this.headers.get(id) ?? {}) },
      });
    }
    return result;
  }

  override async declarationState(): Promise<{ generation: number; keys: string[] }> {
    return { generation: this.declarations.generation, keys: [...this.declarations.keys] };
  }

  override async syncDeclarations(
    keys: readonly string[],
    candidates: ReadonlyMap<string, BuiltDeclaration>,
    deactivation: { message: string; now: Date },
  ): Promise<DeclarationSyncResult> {
    const rows = [...this.declaredKeys].map(([id, key]) => ({ id, key, active: this.subscriptions.get(id)?.active ?? false }));
    const plan = planDeclarations(this.declarations.keys, keys, rows);
    const result: DeclarationSyncResult = { generation: this.declarations.generation, added: [], deactivated: [], kept: plan.kept, missing: plan.missing };
    if (!plan.changed) return result;
    for (const key of plan.create) {
      const { subscription, credentials } = candidates.get(key)!;
      result.added.push(await this.insertSubscription(subscription, credentials));
      this.declaredKeys.set(subscription.id, key);
    }
    for (const id of plan.deactivate) {
      const updated = await this.updateSubscription(id, { active: false, statusMessage: deactivation.message, updatedAt: deactivation.now }, { cancelPending: deactivation });
      if (updated) result.deactivated.push(updated);
    }
    this.declarations = { generation: this.declarations.generation + 1, keys: [...keys] };
    result.generation = this.declarations.generation;
    return result;
  }
}
