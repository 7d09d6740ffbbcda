import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { WebhooksHealthIndicator } from 'nest-webhooks/health';

/** Injection token of the health settings from the environment. */
export const HEALTH_SETTINGS = Symbol('HEALTH_SETTINGS');

/** What `GET /health` tolerates (`WEBHOOKS_HEALTH_MAX_OUTBOX_LAG`). */
export interface HealthSettings {
  maxOutboxLagMs: number;
}

/**
 * Readiness: the database answers, due deliveries do not wait too long for a worker, and this process keeps
 * claiming them when it is a worker. Terminus' shape: `{ status, info, error, details }`, 503 when anything is down.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly webhooks: WebhooksHealthIndicator,
    @Inject(HEALTH_SETTINGS) private readonly settings: HealthSettings,
  ) {}

  @Get()
  @HealthCheck()
  @ApiOperation({ summary: 'Database, outbox and delivery-worker state' })
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 3000 }),
      () => this.webhooks.isHealthy('webhooks', { maxOutboxLagMs: this.settings.maxOutboxLagMs }),
    ]);
  }
}
