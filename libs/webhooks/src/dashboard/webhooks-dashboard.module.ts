import { Module } from '@nestjs/common';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions, WebhooksDashboardOptions } from './dashboard.options.js';
import { DashboardAccess } from './dashboard-access.js';
import { DashboardCsrf } from './dashboard-csrf.js';
import { DashboardKeys } from './dashboard-keys.js';
import { DashboardRequests } from './dashboard-requests.js';
import { DashboardHealth } from './delivery-health.js';
import { ConfigurableDashboardModule, DASHBOARD_MODULE_OPTIONS, DASHBOARD_PATH } from './webhooks-dashboard.module-definition.js';

function resolveDashboardOptions(options: WebhooksDashboardOptions, path: string): ResolvedDashboardOptions {
  if (typeof options?.principal !== 'function') {
    throw new TypeError('WebhooksDashboardModule: principal must be a function (request) => WebhookPrincipal | null');
  }
  return {
    principal: options.principal,
    title: options.title?.trim() || 'Webhooks',
    loginUrl: options.loginUrl ?? null,
    logoutUrl: options.logoutUrl ?? null,
    path,
  };
}

/**
 * A deliveries dashboard served by the application itself: subscriptions with their health, deliveries with
 * filters, each delivery's request, response and tries, and the operator's actions (activate, deactivate, send a
 * test event, rotate the secret, recover, redeliver). Server-rendered HTML with a strict Content-Security-Policy
 * and CSRF-checked forms; it shows and changes only what `WebhookAccessPolicy` lets the principal see. Needs
 * `WebhooksModule` (global by default) and the Express platform.
 *
 * @example
 * ＠Module({
 *   imports: [
 *     WebhooksModule.forRoot({ … }),
 *     WebhooksDashboardModule.forRoot({ guard: AdminGuard, principal: (req) => ({ id: req.user.id, admin: true }) }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [
    {
      provide: DASHBOARD_OPTIONS,
      inject: [DASHBOARD_MODULE_OPTIONS, DASHBOARD_PATH],
      useFactory: resolveDashboardOptions,
    },
    DashboardRequests,
    DashboardAccess,
    DashboardHealth,
    DashboardKeys,
    DashboardCsrf,
  ],
  exports: [DashboardCsrf],
})
export class WebhooksDashboardModule extends ConfigurableDashboardModule {}
