import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { describeError } from '../core/describe-error.js';
import { SharedRead } from '../core/shared-read.js';
import { findWebhookServices, type WebhookServices } from '../operations/webhook-services.js';
import type { OutboxStats } from '../storage/webhook-store.js';
import { assessWebhooksHealth, type WebhooksHealthCheckOptions } from './webhooks-health.assessment.js';

const DEFAULT_MAX_OUTBOX_LAG_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 3000;

/**
 * A `@nestjs/terminus` health indicator for the webhooks: the store answers; and on a delivery worker, due attempts
 * do not wait too long and this process keeps claiming them (a process that only publishes checks the lag only when
 * given `maxOutboxLagMs`). Provide it in a module that imports
 * `TerminusModule`, and call it from a `HealthCheckService.check`.
 *
 * @example
 * ＠Get('health') ＠HealthCheck()
 * check() {
 *   return this.health.check([() => this.webhooks.isHealthy('webhooks')]);
 * }
 */
@Injectable()
export class WebhooksHealthIndicator {
  private services: WebhookServices | null = null;
  /** Probes that arrive together (several load balancers, a liveness and a readiness check) share one query. */
  private outbox: SharedRead<OutboxStats> | null = null;

  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly moduleRef: ModuleRef,
  ) {}

  /**
   * `up` or `down` under `key`, with the outbox's figures (pending, ages in ms), this process's queue and its last
   * claim; `down` also has a `message` saying what is wrong.
   */
  async isHealthy<const Key extends string>(key: Key, options: WebhooksHealthCheckOptions = {}): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check(key);
    const { delivery, clock, options: webhooks } = (this.services ??= findWebhookServices(this.moduleRef, 'WebhooksHealthIndicator'));
    const { queued, active, lastClaimAt, startedAt } = delivery.stats;
    const worker = webhooks.delivery.worker;
    const state = { worker, queued, active, lastClaimAt, startedAt };
    let outbox: OutboxStats;
    try {
      this.outbox ??= new SharedRead(() => delivery.outboxStats());
      outbox = await this.outbox.read(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      return indicator.down({ message: `the webhook store does not answer: ${describeError(error)}`, worker, queued, active, lastClaimAt: lastClaimAt?.toISOString() ?? null });
    }
    const { problems, details } = assessWebhooksHealth(outbox, state, clock.now(), {
      maxOutboxLagMs: options.maxOutboxLagMs ?? (worker ? DEFAULT_MAX_OUTBOX_LAG_MS : null),
      maxClaimAgeMs: options.maxClaimAgeMs ?? Math.max(30_000, 5 * webhooks.delivery.pollIntervalMs),
    });
    return problems.length === 0 ? indicator.up({ ...details }) : indicator.down({ message: problems.join('; '), ...details });
  }
}
