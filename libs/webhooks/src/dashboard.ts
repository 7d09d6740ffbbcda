/**
 * The deliveries dashboard (`nest-webhooks/dashboard`): `WebhooksDashboardModule.forRoot({ guard, principal })`
 * mounts server-rendered pages of subscriptions, deliveries and their actions in the application. See
 * docs/dashboard.md.
 */
export { WebhooksDashboardModule } from './dashboard/webhooks-dashboard.module.js';
export type { WebhooksDashboardOptions, WebhooksDashboardModuleExtras } from './dashboard/dashboard.options.js';
export { DASHBOARD_TEST_EVENT } from './dashboard/dashboard-actions.controller.js';
export { DashboardCsrf } from './dashboard/dashboard-csrf.js';
