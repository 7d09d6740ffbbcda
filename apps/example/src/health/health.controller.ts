import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { WebhooksHealthIndicator } from 'nest-webhooks/health';
import { ApiErrorResponses, QUERY_ERRORS } from '../common/api-responses.js';

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
  // Terminus documents its own answers: 200 and 503 with `{ status, info, error, details }`.
  @HealthCheck()
  @ApiOperation({
    operationId: 'getHealth',
    summary: 'Database, outbox and delivery-worker state',
    description:
      'For load balancers and orchestrators: no API key needed. 503 when the database does not answer, when a due delivery ' +
      'has waited longer than WEBHOOKS_HEALTH_MAX_OUTBOX_LAG, or when this worker stopped claiming due deliveries.',
  })
  @ApiErrorResponses(QUERY_ERRORS)
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 3000 }),
      () => this.webhooks.isHealthy('webhooks', { maxOutboxLagMs: this.settings.maxOutboxLagMs }),
    ]);
  }
}
