import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { WebhookDeliveryManager } from 'nest-webhooks';

/** Liveness and readiness: the database answers, and how much delivery work this process holds. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly dataSource: DataSource,
    private readonly delivery: WebhookDeliveryManager,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Database and delivery-queue state' })
  @ApiOkResponse({ description: 'Everything works' })
  @ApiServiceUnavailableResponse({ description: 'The database does not answer' })
  async health(@Res({ passthrough: true }) res: Response) {
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
