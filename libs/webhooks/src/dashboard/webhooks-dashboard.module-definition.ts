import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_DASHBOARD_PATH } from './dashboard.constants.js';
import type { WebhooksDashboardModuleExtras, WebhooksDashboardOptions } from './dashboard.options.js';
import { dashboardControllers } from './dashboard-controllers.js';

/** Holds the mount path for the options provider. */
export const DASHBOARD_PATH = Symbol('WEBHOOKS_DASHBOARD_PATH');

/** `path` without slashes at either end; an empty one is refused (the dashboard needs a path of its own). */
export function normalizeDashboardPath(path: unknown): string {
  const normalized = typeof path === 'string' ? path.trim().replace(/^\/+|\/+$/g, '') : '';
  if (normalized === '' || /[?#\s:*]/.test(normalized)) {
    throw new TypeError(`WebhooksDashboardModule: path must be a URL path such as 'webhooks/dashboard', got ${JSON.stringify(path)}`);
  }
  return normalized;
}

export const {
  ConfigurableModuleClass: ConfigurableDashboardModule,
  MODULE_OPTIONS_TOKEN: DASHBOARD_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<WebhooksDashboardOptions>({ moduleName: 'WebhooksDashboard' })
  .setClassMethodName('forRoot')
  .setExtras<WebhooksDashboardModuleExtras>({ path: DEFAULT_DASHBOARD_PATH, guard: undefined, imports: [] }, (definition, extras) => {
    const path = normalizeDashboardPath(extras.path ?? DEFAULT_DASHBOARD_PATH);
    return {
      ...definition,
      imports: [...(definition.imports ?? []), ...(extras.imports ?? [])],
      controllers: dashboardControllers(path, extras.guard),
      providers: [...(definition.providers ?? []), { provide: DASHBOARD_PATH, useValue: path }],
    };
  })
  .build();
