import { ConfigurableModuleBuilder } from '@nestjs/common';
import { metricsControllerAt } from './webhooks-metrics.controller.js';
import { WEBHOOKS_METRICS_OPTIONS, type WebhooksMetricsOptions } from './webhooks-metrics.options.js';

/** Options of `WebhooksMetricsModule.forRoot`/`forRootAsync` that shape the module itself. */
export interface WebhooksMetricsModuleExtras {
  /**
   * Serve the metrics in Prometheus' text format at this path (for example `/metrics`), through a controller of the
   * module. Leave it out to serve them from a controller of your own (with `WebhookMetrics`), behind your guards.
   */
  path?: string;
  /** Register the module globally so every module can inject `WebhookMetrics`. @default true */
  isGlobal?: boolean;
}

/**
 * The base class giving `WebhooksMetricsModule` its `forRoot`/`forRootAsync` (Nest's `ConfigurableModuleBuilder`):
 * the options go to `WEBHOOKS_METRICS_OPTIONS`; the extras decide whether the module is global and whether it
 * serves the metrics through a controller of its own at `path`.
 */
export const { ConfigurableModuleClass: ConfigurableWebhooksMetricsModule } = new ConfigurableModuleBuilder<WebhooksMetricsOptions>({
  moduleName: 'WebhooksMetrics',
  optionsInjectionToken: WEBHOOKS_METRICS_OPTIONS,
})
  .setClassMethodName('forRoot')
  .setExtras<WebhooksMetricsModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
    controllers: extras.path === undefined ? [] : [metricsControllerAt(extras.path)],
  }))
  .build();
