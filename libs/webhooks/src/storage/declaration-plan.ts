import type { WebhookSubscription } from '../core/webhook-subscription.js';
import type { SubscriptionCredentials } from './webhook-store.js';

/** A declared subscription as the store holds it: its id, the key of its declaration, and whether it is active. */
export interface DeclaredRow {
  id: string;
  key: string;
  active: boolean;
}

/** What a sync does: declarations to create, subscriptions to deactivate, those kept, and kept keys with none active. */
export interface DeclarationPlan {
  create: string[];
  deactivate: string[];
  kept: string[];
  missing: string[];
  /** Whether the state changes (and its generation is raised). */
  changed: boolean;
}

/** A declaration checked and built, ready to be stored if the sync creates it. */
export interface BuiltDeclaration {
  subscription: WebhookSubscription;
  credentials: SubscriptionCredentials;
}

/** What a sync did. */
export interface DeclarationSyncResult {
  generation: number;
  added: WebhookSubscription[];
  deactivated: WebhookSubscription[];
  kept: string[];
  missing: string[];
}

/**
 * Compares the declarations of the last sync (`previous`), those configured now (`next`) and the declared
 * subscriptions stored. A declaration new since the last sync gets a new subscription (also when an old one for it
 * was deactivated earlier: it is not reactivated); an active subscription whose declaration is gone is deactivated
 * (never deleted, so its history stays); a declaration kept since the last sync whose subscription was deleted or
 * deactivated by hand is reported missing and not recreated.
 */
export function planDeclarations(previous: readonly string[], next: readonly string[], rows: readonly DeclaredRow[]): DeclarationPlan {
  const before = new Set(previous);
  const wanted = new Set(next);
  const activeByKey = new Map<string, string>();
  for (const row of rows) if (row.active && !activeByKey.has(row.key)) activeByKey.set(row.key, row.id);
  const plan: DeclarationPlan = { create: [], deactivate: [], kept: [], missing: [], changed: false };
  for (const key of wanted) {
    const id = activeByKey.get(key);
    if (id !== undefined) plan.kept.push(id);
    else if (before.has(key)) plan.missing.push(key);
    else plan.create.push(key);
  }
  for (const row of rows) if (row.active && !wanted.has(row.key)) plan.deactivate.push(row.id);
  const sameKeys = before.size === wanted.size && [...wanted].every((key) => before.has(key));
  plan.changed = plan.create.length > 0 || plan.deactivate.length > 0 || !sameKeys;
  return plan;
}
