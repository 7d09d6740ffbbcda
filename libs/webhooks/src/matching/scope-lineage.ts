import type { EventScopes } from '../core/webhook-shipment.js';

export const NO_SCOPES: EventScopes = Object.freeze({ current: null, payload: null });

/** A normalised scope and its ancestors, root first: `/a/b` → `/`, `/a`, `/a/b`. */
export function lineage(scope: string): string[] {
  const scopes = ['/'];
  if (scope === '/') return scopes;
  let at = 0;
  while ((at = scope.indexOf('/', at + 1)) !== -1) scopes.push(scope.slice(0, at));
  scopes.push(scope);
  return scopes;
}

/**
 * The scopes whose subscriptions an event reaches, besides the global ones: the current scope and its ancestors,
 * and the payload's scope and its ancestors, each once, from the root to the leaves (the current scope's lineage
 * first at equal depth). Siblings and descendants are never among them.
 */
export function scopesReached(scopes: EventScopes): string[] {
  const { current, payload } = scopes;
  if (current === null && payload === null) return [];
  if (payload === null || payload === current) return lineage(current!);
  if (current === null) return lineage(payload);
  const seen = new Set<string>();
  const reached: string[] = [];
  for (const scope of [...lineage(current), ...lineage(payload)]) {
    if (seen.has(scope)) continue;
    seen.add(scope);
    reached.push(scope);
  }
  const depth = (scope: string) => (scope === '/' ? 0 : scope.split('/').length - 1);
  // A stable sort by depth keeps the current scope's lineage first among scopes of one depth.
  return reached.sort((a, b) => depth(a) - depth(b));
}
