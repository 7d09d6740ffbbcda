import type { WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { DashboardExchange } from './dashboard-exchange.js';
import type { DashboardKeys } from './dashboard-keys.js';

/** A rotated signing secret on its way to the one page that shows it. */
export interface RevealedSecret {
  secret: string;
  /** Until when the previous secrets keep signing beside it. */
  previousUntil: Date;
}

const SECRET_COOKIE = 'webhooks_dashboard_new_secret';

/** The page that shows a subscription's new secret, relative to the dashboard. */
export const secretPath = (subscriptionId: string) => `/subscriptions/${encodeURIComponent(subscriptionId)}/secret`;

/** Binds a sealed secret to its subscription and its principal: opened for another, it is not there. */
const associatedData = (subscriptionId: string, principal: WebhookPrincipal) => `${subscriptionId}|${principal.id}`;

/**
 * Hands the new secret to the result page of a rotation (POST/redirect/GET) in a cookie only that page
 * receives (HttpOnly, SameSite=Strict, its own path, two minutes): nothing on the server keeps it, and any
 * replica that shares the server key can show it. The cookie is sealed (`DashboardKeys`), so the browser cannot
 * read it and a cookie planted by someone else (a sibling subdomain) is never shown as the secret.
 */
export function keepForOneView(exchange: DashboardExchange, keys: DashboardKeys, subscriptionId: string, principal: WebhookPrincipal, revealed: RevealedSecret): void {
  const sealed = keys.seal(JSON.stringify({ secret: revealed.secret, previousUntil: revealed.previousUntil.toISOString() }), associatedData(subscriptionId, principal));
  exchange.setCookie(SECRET_COOKIE, sealed, { path: exchange.base + secretPath(subscriptionId), maxAge: 120 });
}

function unseal(keys: DashboardKeys, sealed: string, data: string): RevealedSecret | null {
  const opened = keys.open(sealed, data);
  if (opened === null) return null;
  try {
    const parsed = JSON.parse(opened) as { secret?: unknown; previousUntil?: unknown };
    const previousUntil = typeof parsed.previousUntil === 'string' ? new Date(parsed.previousUntil) : new Date(NaN);
    return typeof parsed.secret === 'string' && !Number.isNaN(previousUntil.getTime()) ? { secret: parsed.secret, previousUntil } : null;
  } catch {
    return null;
  }
}

/**
 * The new secret, once: the cookie is deleted in the same response, so a reload shows nothing. Every cookie of
 * that name is tried (one may have been planted beside it); one that does not open, or holds no valid time, is
 * treated as absent.
 */
export function takeOneView(exchange: DashboardExchange, keys: DashboardKeys, subscriptionId: string, principal: WebhookPrincipal): RevealedSecret | null {
  const sent = exchange.cookies(SECRET_COOKIE);
  if (sent.length === 0) return null;
  exchange.setCookie(SECRET_COOKIE, '', { path: exchange.base + secretPath(subscriptionId), maxAge: 0 });
  const data = associatedData(subscriptionId, principal);
  for (const sealed of sent) {
    const revealed = unseal(keys, sealed, data);
    if (revealed) return revealed;
  }
  return null;
}
