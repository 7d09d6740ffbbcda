import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Response } from 'express';
import { WebhookMetrics } from 'nest-webhooks/metrics';
import { ApiError } from '../common/api-error.js';
import { ApiErrorResponses, QUERY_ERRORS } from '../common/api-responses.js';
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
  @ApiOperation({
    operationId: 'getMetrics',
    summary: 'Prometheus metrics: deliveries, latencies, the outbox, the queue, subscriptions',
    description: 'For Prometheus to scrape. Needs `Authorization: Bearer <WEBHOOKS_METRICS_TOKEN>` when that is set; open otherwise.',
  })
  @ApiErrorResponses(QUERY_ERRORS)
  @ApiOkResponse({ description: "Prometheus' text exposition format (docs/observability.md lists the metrics)", content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiUnauthorizedResponse({ description: 'WEBHOOKS_METRICS_TOKEN is set and the request does not carry it', type: ApiError })
  async scrape(@Res({ passthrough: true }) response: Response): Promise<string> {
    const text = await this.metrics.metrics();
    response.setHeader('Content-Type', this.metrics.contentType);
    return text;
  }
}
