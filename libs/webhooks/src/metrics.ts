/**
 * Prometheus metrics of the webhooks (`prom-client`, an optional peer): `WebhooksMetricsModule.forRoot(...)`
 * beside `WebhooksModule.forRoot(...)`, and `WebhookMetrics` to serve them. docs/observability.md lists the metrics.
 */
export { WebhooksMetricsModule } from './metrics/webhooks-metrics.module.js';
export { WebhookMetrics } from './metrics/webhook-metrics.js';
export { WEBHOOKS_METRICS_OPTIONS, type WebhooksMetricsOptions } from './metrics/webhooks-metrics.options.js';
export type { WebhooksMetricsModuleExtras } from './metrics/webhooks-metrics.module-definition.js';
