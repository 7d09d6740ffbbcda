import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { WebhooksHealthIndicator } from 'nest-webhooks/health';
import { ApiErrorResponses, QUERY_ERRORS } from '../common/api-responses.js';

/** Injection token of the health settings from the environment. */
export const HEALTH_SETTINGS = Symbol('HEALTH_SETTINGS');

/** What `GET /health` tolerates (`WEBHOOKS_HEALTH_MAX_OUTBOX_LAG`). */
export interface HealthSettings {
  /** On delivery workers only; `undefined` on API processes, whose readiness does not depend on the backlog. */
  maxOutboxLagMs: number | undefined;
}

/**
 * Readiness: the database and the webhook store answer; on a delivery worker, due deliveries also do not wait too
 * long and this process keeps claiming them. A slow customer endpoint's backlog never takes API processes out of a
 * load balancer (alert on `webhooks_outbox_lag_seconds` instead). Terminus' shape: `{ status, info, error, details }`,
 * 503 when anything is down.
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
    summary: 'Database, webhook store and delivery-worker state',
    description:
      'For load balancers and orchestrators: no API key needed. 503 when the database or the webhook store does not answer; ' +
      'on a delivery worker also when a due delivery has waited longer than WEBHOOKS_HEALTH_MAX_OUTBOX_LAG, or when it ' +
      'stopped claiming due deliveries.',
  })
  @ApiErrorResponses(QUERY_ERRORS)
  check() {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: 3000 }),
      () => this.webhooks.isHealthy('webhooks', { maxOutboxLagMs: this.settings.maxOutboxLagMs }),
    ]);
  }
}
