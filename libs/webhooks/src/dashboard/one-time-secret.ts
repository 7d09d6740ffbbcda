import type { DashboardExchange } from './dashboard-exchange.js';

/** A rotated signing secret on its way to the one page that shows it. */
export interface RevealedSecret {
  secret: string;
  /** Until when the previous secrets keep signing beside it (ISO time). */
  previousUntil: string;
}

const SECRET_COOKIE = 'webhooks_dashboard_new_secret';

/** The page that shows a subscription's new secret, relative to the dashboard. */
export const secretPath = (subscriptionId: string) => `/subscriptions/${encodeURIComponent(subscriptionId)}/secret`;

/**
 * Hands the new secret to the result page of a rotation (POST/redirect/GET) in a cookie only that page
 * receives (HttpOnly, SameSite=Strict, its own path, two minutes): nothing on the server keeps it, and any
 * replica can show it.
 */
export function keepForOneView(exchange: DashboardExchange, subscriptionId: string, revealed: RevealedSecret): void {
  exchange.setCookie(SECRET_COOKIE, JSON.stringify(revealed), { path: exchange.base + secretPath(subscriptionId), maxAge: 120 });
}

/** The new secret, once: the cookie is deleted in the same response, so a reload shows nothing. */
export function takeOneView(exchange: DashboardExchange, subscriptionId: string): RevealedSecret | null {
  const raw = exchange.cookie(SECRET_COOKIE);
  if (raw === undefined) return null;
  exchange.setCookie(SECRET_COOKIE, '', { path: exchange.base + secretPath(subscriptionId), maxAge: 0 });
  try {
    const parsed = JSON.parse(raw) as Partial<RevealedSecret>;
    return typeof parsed.secret === 'string' && typeof parsed.previousUntil === 'string' ? { secret: parsed.secret, previousUntil: parsed.previousUntil } : null;
  } catch {
    return null;
  }
}
