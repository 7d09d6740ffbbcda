import type { OutboxStats } from '../storage/webhook-store.js';

/** Options of one `WebhooksHealthIndicator.isHealthy` check. */
export interface WebhooksHealthCheckOptions {
  /**
   * Down when an attempt that is due (a first try, or a retry whose time has come) has waited longer than this for a
   * worker. Retries scheduled for later never count: a dead endpoint does not make the service unhealthy. Checked
   * whenever it is given; left out, only on delivery workers (`delivery.worker`), with 5 minutes: the readiness of a
   * process that only publishes is its store answering (a backlog is the workers' matter, not a reason to take API
   * replicas out of a load balancer). Alert on `webhooks_outbox_lag_seconds` for the lag itself.
   * @default 300_000 (5 minutes) on workers, not checked elsewhere
   */
  maxOutboxLagMs?: number;
  /**
   * Down when this process is a worker, work is due, it holds none, and its queue has not asked the store for due
   * attempts for longer than this (counted from the queue's start before its first claim).
   * @default the larger of 30 s and 5 × `delivery.pollIntervalMs`
   */
  maxClaimAgeMs?: number;
  /** Down when the store does not answer within this. @default 3000 */
  timeoutMs?: number;
}

/** What this process knows of its own delivery work (`WebhookDeliveryManager.stats` and the options). */
export interface WorkerState {
  worker: boolean;
  queued: number;
  active: number;
  /** `undefined`: the queue does not say. */
  lastClaimAt: Date | null | undefined;
  /** When the queue started taking work (`null`: not started; `undefined`: the queue does not say). */
  startedAt?: Date | null;
}

/** The details a check reports, healthy or not. */
export interface WebhooksHealthDetails {
  pending: number;
  oldestPendingAgeMs: number;
  outboxLagMs: number;
  /** `null`: the lag is not checked in this process. */
  maxOutboxLagMs: number | null;
  worker: boolean;
  queued: number;
  active: number;
  lastClaimAt: string | null;
  maxClaimAgeMs: number;
}

/** The outcome of a check: what is wrong (nothing when healthy) and the figures behind it. */
export interface WebhooksHealthAssessment {
  problems: string[];
  details: WebhooksHealthDetails;
}

/** Judges the outbox and this process's claims at `now` (the library clock's time). */
export function assessWebhooksHealth(
  outbox: OutboxStats,
  state: WorkerState,
  now: Date,
  limits: { maxOutboxLagMs: number | null; maxClaimAgeMs: number },
): WebhooksHealthAssessment {
  const since = (at: Date | null | undefined) => (at ? Math.max(0, now.getTime() - at.getTime()) : 0);
  const due = outbox.oldestDueAt !== null && outbox.oldestDueAt <= now;
  const outboxLagMs = since(outbox.oldestDueAt);
  const problems: string[] = [];
  if (limits.maxOutboxLagMs !== null && outboxLagMs > limits.maxOutboxLagMs) {
    problems.push(`a due webhook attempt has waited ${outboxLagMs} ms for a worker (maxOutboxLagMs: ${limits.maxOutboxLagMs})`);
  }
  // A worker holding work is busy, not stuck (a full queue claims nothing); one holding none must keep claiming.
  const idle = state.queued === 0 && state.active === 0;
  if (state.worker && due && idle && state.lastClaimAt !== undefined) {
    // Before its first claim, a queue has until maxClaimAgeMs after its start (one that does not say is flagged).
    const from = state.lastClaimAt ?? state.startedAt;
    const claimAgeMs = from ? since(from) : null;
    if (claimAgeMs === null || claimAgeMs > limits.maxClaimAgeMs) {
      const last =
        state.lastClaimAt !== null ? `last claimed ${claimAgeMs} ms ago` : claimAgeMs === null ? 'has not claimed yet' : `has not claimed in the ${claimAgeMs} ms since it started`;
      problems.push(`webhook attempts are due but this worker ${last} (maxClaimAgeMs: ${limits.maxClaimAgeMs})`);
    }
  }
  return {
    problems,
    details: {
      pending: outbox.pending,
      oldestPendingAgeMs: since(outbox.oldestPendingAt),
      outboxLagMs,
      maxOutboxLagMs: limits.maxOutboxLagMs,
      worker: state.worker,
      queued: state.queued,
      active: state.active,
      lastClaimAt: state.lastClaimAt?.toISOString() ?? null,
      maxClaimAgeMs: limits.maxClaimAgeMs,
    },
  };
}
