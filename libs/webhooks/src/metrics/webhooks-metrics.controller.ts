import { Controller, Get, Inject, Res, type Type } from '@nestjs/common';
import { WebhookMetrics } from './webhook-metrics.js';

/** What the controller needs of a response: Express' and Fastify's both have it. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

/** A controller serving the metrics at `path` (`WebhooksMetricsModule.forRoot({ path })`). */
export function metricsControllerAt(path: string): Type<unknown> {
  if (typeof path !== 'string' || !/^\/?[\w\-./]+$/.test(path)) throw new Error(`WebhooksMetricsModule: path "${String(path)}" is not a route path such as /metrics`);

  @Controller()
  class WebhooksMetricsController {
    constructor(@Inject(WebhookMetrics) private readonly metrics: WebhookMetrics) {}

    @Get(path)
    async scrape(@Res({ passthrough: true }) response: HeaderSetter): Promise<string> {
      const text = await this.metrics.metrics();
      response.header('Content-Type', this.metrics.contentType);
      return text;
    }
  }
  return WebhooksMetricsController;
}
