import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ForbiddenException } from '@nestjs/common';
import type { WebhookPrincipal } from '../access/webhook-access.policy.js';
import type { DashboardExchange } from './dashboard-exchange.js';

const CSRF_COOKIE = 'webhooks_dashboard_csrf';
/** The hidden field every dashboard form carries. */
export const CSRF_FIELD = '_csrf';
const SECRET = /^[A-Za-z0-9_-]{43}$/;

const tokenFor = (secret: string, principal: WebhookPrincipal) => createHmac('sha256', secret).update(`dashboard-form:${principal.id}`).digest('base64url');

/**
 * The token for this principal's forms (double-submit cookie): a random secret lives in an HttpOnly,
 * SameSite=Strict cookie scoped to the dashboard; forms carry an HMAC of the principal's id keyed by it. Another
 * site can neither read the cookie nor make the browser send it, so it cannot forge the field. Sets the cookie
 * when the browser has none yet.
 */
export function csrfToken(exchange: DashboardExchange, principal: WebhookPrincipal): string {
  let secret = exchange.cookie(CSRF_COOKIE);
  if (!secret || !SECRET.test(secret)) {
    secret = randomBytes(32).toString('base64url');
    exchange.setCookie(CSRF_COOKIE, secret, { path: exchange.base });
  }
  return tokenFor(secret, principal);
}

/**
 * Refuses (403) a form without the token of this browser and principal, and any request the browser marks as
 * coming from another site (`Sec-Fetch-Site`), before the action runs.
 */
export function checkCsrf(exchange: DashboardExchange, principal: WebhookPrincipal, form: URLSearchParams): void {
  const site = exchange.request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw new ForbiddenException('This form was sent from another site. Open the dashboard and try again.');
  }
  const secret = exchange.cookie(CSRF_COOKIE);
  const sent = Buffer.from(form.get(CSRF_FIELD) ?? '');
  const expected = secret && SECRET.test(secret) ? Buffer.from(tokenFor(secret, principal)) : null;
  if (!expected || sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new ForbiddenException('The form’s security token is missing or out of date. Reload the page and try again.');
  }
}
