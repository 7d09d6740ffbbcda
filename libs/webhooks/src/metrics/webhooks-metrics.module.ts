import { Module } from '@nestjs/common';
import { WebhookMetrics } from './webhook-metrics.js';
import { ConfigurableWebhooksMetricsModule } from './webhooks-metrics.module-definition.js';

/**
 * Prometheus metrics of an application's webhooks: deliveries, latencies, the outbox, the queue, subscriptions.
 * Import it beside `WebhooksModule.forRoot(...)`; serve the metrics with `forRoot({ path: '/metrics' })` or from a
 * controller of your own through `WebhookMetrics`.
 *
 * @example
 * ＠Module({
 *   imports: [WebhooksModule.forRoot({ ... }), WebhooksMetricsModule.forRoot({ path: '/metrics' })],
 * })
 * export class AppModule {}
 */
@Module({
  providers: [WebhookMetrics],
  exports: [WebhookMetrics],
})
export class WebhooksMetricsModule extends ConfigurableWebhooksMetricsModule {}
