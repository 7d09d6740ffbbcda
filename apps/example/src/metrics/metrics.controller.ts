import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { WebhookMetrics } from 'nest-webhooks/metrics';
import { MetricsTokenGuard } from './metrics-token.guard.js';

/** The webhook metrics for Prometheus, behind `WEBHOOKS_METRICS_TOKEN` when it is set. */
@ApiTags('observability')
@ApiBearerAuth('metrics')
@Controller('metrics')
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: WebhookMetrics) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Prometheus metrics: deliveries, latencies, the outbox, the queue, subscriptions' })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: "Prometheus' text exposition format (docs/observability.md lists the metrics)", schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'WEBHOOKS_METRICS_TOKEN is set and the request does not carry it' })
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const text = await this.metrics.metrics();
    response.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
