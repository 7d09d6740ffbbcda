import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';

/** What happened on one try, as far as retrying is concerned. */
export interface TryOutcome {
  statusCode: number | null;
  /** `timeout`, `blocked-address`, … for tries without an HTTP answer. */
  errorCode: string | null;
  /** False for failures no retry can change (blocked destination, invalid URL). */
  retryable: boolean;
  /** The response's `Retry-After` header, if any. */
  retryAfter?: string;
}

export type RetryDecision = { retry: true; delayMs: number } | { retry: false };

const OVERLOAD_STATUSES = new Set([429, 503]);

/** Parses `Retry-After` (seconds or an HTTP date) into milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * The retry schedule (Svix-style): after try `n` fails, wait `schedule[n-1]` ± jitter; timeouts, 429 and 503
 * wait at least `overloadDelayMs`; a `Retry-After` is honoured between that delay and twice it; past the
 * schedule, or for a permanent failure, or 410 Gone, there is no retry.
 */
export function decideRetry(
  triesDone: number,
  outcome: TryOutcome,
  schedule: readonly number[],
  options: ResolvedWebhooksOptions['delivery'],
  now: Date,
  random: () => number = Math.random,
): RetryDecision {
  if (!outcome.retryable || outcome.statusCode === 410) return { retry: false };
  const base = schedule[triesDone - 1];
  if (base === undefined) return { retry: false };
  let delay = Math.round(base * (1 + options.retryJitter * (2 * random() - 1)));
  const overloaded = outcome.errorCode === 'timeout' || (outcome.statusCode !== null && OVERLOAD_STATUSES.has(outcome.statusCode));
  if (overloaded) delay = Math.max(delay, options.overloadDelayMs);
  const retryAfter = parseRetryAfter(outcome.retryAfter, now);
  if (retryAfter !== null) delay = Math.min(Math.max(retryAfter, delay), 2 * delay);
  return { retry: true, delayMs: Math.max(0, delay) };
}
