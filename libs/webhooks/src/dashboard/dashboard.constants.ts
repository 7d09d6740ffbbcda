/** The dashboard's options with defaults applied (`ResolvedDashboardOptions`). */
export const DASHBOARD_OPTIONS = Symbol('WEBHOOKS_DASHBOARD_OPTIONS');

/** Where the dashboard is mounted unless `path` says otherwise. */
export const DEFAULT_DASHBOARD_PATH = 'webhooks/dashboard';
