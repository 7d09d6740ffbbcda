import { Injectable } from '@nestjs/common';
import type { WebhookAttempt } from '../core/webhook-attempt.js';
import { WebhookDeliveryManager } from '../operations/webhook-delivery.manager.js';

/** How many of a subscription's newest attempts its success rate is computed over. */
export const RECENT_ATTEMPTS = 20;

/** A subscription's recent delivery record, as the dashboard shows it. */
export interface DeliveryHealth {
  /** Attempts looked at (at most `RECENT_ATTEMPTS`), newest first. */
  recent: readonly WebhookAttempt[];
  successful: number;
  failed: number;
  pending: number;
  /** Successful among the resolved recent attempts, 0-1; `null` when none is resolved yet. */
  successRate: number | null;
  /** When the newest successful delivery got its answer; `null` when none succeeded (as far as the history goes). */
  lastSuccessAt: Date | null;
}

/** Reads delivery health from the attempt history: one query, two when no recent attempt succeeded. */
@Injectable()
export class DashboardHealth {
  constructor(private readonly delivery: WebhookDeliveryManager) {}

  async of(subscriptionId: string): Promise<DeliveryHealth> {
    const recent = await this.delivery.listAttempts(subscriptionId, { limit: RECENT_ATTEMPTS });
    const count = (status: WebhookAttempt['status']) => recent.filter((a) => a.status === status).length;
    const [successful, failed, pending] = [count('successful'), count('failed'), count('pending')];
    const lastSuccess =
      recent.find((a) => a.status === 'successful') ??
      (recent.length < RECENT_ATTEMPTS ? undefined : (await this.delivery.listAttempts(subscriptionId, { status: 'successful', limit: 1 }))[0]);
    return {
      recent,
      successful,
      failed,
      pending,
      successRate: successful + failed === 0 ? null : successful / (successful + failed),
      lastSuccessAt: lastSuccess ? (lastSuccess.response?.receivedAt ?? lastSuccess.updatedAt) : null,
    };
  }
}
