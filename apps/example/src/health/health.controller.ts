import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ApiErrorResponses, QUERY_ERRORS } from '../common/api-responses.js';
import { HealthResponse } from './health.dto.js';

/** Liveness and readiness: the database answers, and how much delivery work this process holds. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly delivery: WebhookDeliveryManager,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Database and delivery-queue state',
    description: 'For load balancers and orchestrators: no API key needed. 503 while the database does not answer.',
  })
  @ApiOkResponse({ type: HealthResponse, description: 'Everything works' })
  @ApiServiceUnavailableResponse({ type: HealthResponse, description: 'The database does not answer' })
  @ApiErrorResponses(QUERY_ERRORS)
  async health(@Res({ passthrough: true }) res: Response): Promise<HealthResponse> {
    let database: 'up' | 'down' = 'up';
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      database = 'down';
    }
    if (database === 'down') res.status(HttpStatus.SERVICE_UNAVAILABLE);
    return {
      status: database === 'up' ? 'ok' : 'error',
      database,
      deliveryQueue: { ...this.delivery.stats, worker: this.delivery.workerId },
    };
  }
}
