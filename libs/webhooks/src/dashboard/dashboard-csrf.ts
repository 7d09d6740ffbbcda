import type { IncomingMessage } from 'node:http';
import { Injectable } from '@nestjs/common';
import type { WebhookPrincipal } from '../access/webhook-access.policy.js';
import { CSRF_COOKIE, CSRF_FIELD, fromAnotherSite, tokenMatches } from './csrf.js';
import { readCookies } from './dashboard-exchange.js';
import { DashboardKeys } from './dashboard-keys.js';

/**
 * Checks the dashboard's form token in the application's own routes. The header's "Sign out" button POSTs to
 * `logoutUrl` with the `_csrf` field of the dashboard's forms; the application's handler verifies it before it
 * ends the session, so another site cannot sign the user out. The browser sends the token's cookie only below
 * the dashboard's path: put the sign-out route there (for example `<path>/logout`). Exported by
 * `WebhooksDashboardModule`.
 *
 * @example
 * ＠Post('webhooks/dashboard/logout')
 * logout(＠Req() req, ＠Body('_csrf') token: string) {
 *   if (!this.csrf.verify(req, { id: req.user.id }, token)) throw new ForbiddenException();
 *   …
 * }
 */
@Injectable()
export class DashboardCsrf {
  /** The name of the form field that carries the token. */
  readonly field = CSRF_FIELD;

  constructor(private readonly keys: DashboardKeys) {}

  /**
   * Whether `token` is the one the dashboard's pages gave `principal` (the same `id` its `principal` option
   * returns) in this browser, and the browser did not mark the request as coming from another site.
   */
  verify(request: IncomingMessage, principal: WebhookPrincipal, token: unknown): boolean {
    if (fromAnotherSite(request.headers)) return false;
    return tokenMatches(this.keys, readCookies(request).get(CSRF_COOKIE) ?? [], principal, token);
  }
}
