import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { answerWithin } from '../core/answer-within.js';
import { describeError } from '../core/describe-error.js';
import { findWebhookServices, type WebhookServices } from '../operations/webhook-services.js';
import type { OutboxStats } from '../storage/webhook-store.js';
import { assessWebhooksHealth, type WebhooksHealthCheckOptions } from './webhooks-health.assessment.js';

const DEFAULT_MAX_OUTBOX_LAG_MS = 5 * 60_000;
const DEFAULT_TIMEOUT_MS = 3000;

/**
 * A `@nestjs/terminus` health indicator for the webhooks: the store answers, due attempts do not wait too long for a
 * worker, and this process, when it is a worker, keeps claiming them. Provide it in a module that imports
 * `TerminusModule`, and call it from a `HealthCheckService.check`.
 *
 * @example
 * ＠Get('health') ＠HealthCheck()
 * check() {
 *   return this.health.check([() => this.webhooks.isHealthy('webhooks', { maxOutboxLagMs: 60_000 })]);
 * }
 */
@Injectable()
export class WebhooksHealthIndicator {
  private services: WebhookServices | null = null;

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
    const { queued, active, lastClaimAt } = delivery.stats;
    const state = { worker: webhooks.delivery.worker, queued, active, lastClaimAt };
    let outbox: OutboxStats;
    try {
      outbox = await answerWithin(delivery.outboxStats(), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    } catch (error) {
      return indicator.down({ message: `the webhook store does not answer: ${describeError(error)}`, ...state, lastClaimAt: lastClaimAt?.toISOString() ?? null });
    }
    const { problems, details } = assessWebhooksHealth(outbox, state, clock.now(), {
      maxOutboxLagMs: options.maxOutboxLagMs ?? DEFAULT_MAX_OUTBOX_LAG_MS,
      maxClaimAgeMs: options.maxClaimAgeMs ?? Math.max(30_000, 5 * webhooks.delivery.pollIntervalMs),
    });
    return problems.length === 0 ? indicator.up({ ...details }) : indicator.down({ message: problems.join('; '), ...details });
  }
}
