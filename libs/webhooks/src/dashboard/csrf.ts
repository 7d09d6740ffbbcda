import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { ForbiddenException } from '@nestjs/common';
import type { WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { DashboardExchange } from './dashboard-exchange.js';
import type { DashboardKeys } from './dashboard-keys.js';

/** The cookie that holds this browser's random form secret. */
export const CSRF_COOKIE = 'webhooks_dashboard_csrf';
/** The hidden field every dashboard form carries. */
export const CSRF_FIELD = '_csrf';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

/** The form token of a browser's secret and a principal, signed with the server key. */
const tokenFor = (keys: DashboardKeys, secret: string, principal: WebhookPrincipal) => keys.sign(`${secret}|dashboard-form:${principal.id}`);

/**
 * The token for this principal's forms (a double-submit cookie, signed): a random secret lives in an HttpOnly,
 * SameSite=Strict cookie scoped to the dashboard; forms carry an HMAC of that secret and the principal's id under
 * the server key. Another site can neither read the cookie nor make the browser send it; and whoever can set a
 * cookie for the dashboard (a sibling subdomain) still cannot compute a token for it without the server key.
 * Sets the cookie when the browser has none yet.
 */
export function csrfToken(exchange: DashboardExchange, keys: DashboardKeys, principal: WebhookPrincipal): string {
  let secret = exchange.cookies(CSRF_COOKIE).find((value) => SECRET.test(value));
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    exchange.setCookie(CSRF_COOKIE, secret, { path: exchange.base });
  }
  return tokenFor(keys, secret, principal);
}

/** Whether the browser marked the request as coming from another site (`Sec-Fetch-Site`); older browsers send nothing. */
export function fromAnotherSite(headers: IncomingHttpHeaders): boolean {
  const site = headers['sec-fetch-site'];
  return site !== undefined && site !== 'same-origin' && site !== 'none';
}

/** Whether `sent` is the token of one of the browser's form secrets (every cookie of that name is tried) and `principal`. */
export function tokenMatches(keys: DashboardKeys, secrets: readonly string[], principal: WebhookPrincipal, sent: unknown): boolean {
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  return secrets.some((secret) => {
    if (!SECRET.test(secret)) return false;
    const expected = Buffer.from(tokenFor(keys, secret, principal));
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * Refuses (403) a form without the token of this browser and principal, and any request the browser marks as
 * coming from another site (`Sec-Fetch-Site`), before the action runs.
 */
export function checkCsrf(exchange: DashboardExchange, keys: DashboardKeys, principal: WebhookPrincipal, form: URLSearchParams): void {
  if (fromAnotherSite(exchange.request.headers)) {
    throw new ForbiddenException('This form was sent from another site. Open the dashboard and try again.');
  }
  if (!tokenMatches(keys, exchange.cookies(CSRF_COOKIE), principal, form.get(CSRF_FIELD))) {
    throw new ForbiddenException('The form’s security token is missing or out of date. Reload the page and try again.');
  }
}
