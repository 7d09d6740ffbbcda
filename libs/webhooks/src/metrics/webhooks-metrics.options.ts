import type { Registry } from 'prom-client';

/** Injection token of the options given to `WebhooksMetricsModule.forRoot`. */
export const WEBHOOKS_METRICS_OPTIONS = Symbol('WEBHOOKS_METRICS_OPTIONS');

/** Options of `WebhooksMetricsModule.forRoot`. */
export interface WebhooksMetricsOptions {
  /**
   * The prom-client registry to register the metrics in. By default each application gets a registry of its own
   * (never prom-client's global one), so two applications in one process do not clash.
   */
  registry?: Registry;
  /** Prefix of every metric name. @default 'webhooks_' */
  prefix?: string;
  /** Histogram buckets, in seconds. */
  buckets?: {
    /** Of `<prefix>try_duration_seconds`. @default 5 ms to 30 s */
    tryDuration?: number[];
    /** Of `<prefix>delivery_latency_seconds`. @default 50 ms to 2 days (the default retry schedule ends after about 28 h) */
    deliveryLatency?: number[];
  };
  /**
   * Label deliveries with the event name (`event`). Off by default: only when the application's event names are a
   * small fixed set, as every name is a time series of its own. @default false
   */
  eventLabel?: boolean;
  /**
   * How long a scrape waits for each store read behind its gauges (the outbox, the subscriptions). A read that takes
   * longer leaves those gauges at their last values and `<prefix>store_up` at 0 for that scrape. @default 2000
   */
  scrapeTimeoutMs?: number;
}

/** The options with their defaults. */
export type ResolvedWebhooksMetricsOptions = Required<Omit<WebhooksMetricsOptions, 'registry' | 'buckets'>> & {
  registry: Registry | undefined;
  buckets: { tryDuration: number[]; deliveryLatency: number[] };
};

const TRY_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
// A delivery waits through its retries: from a first try that succeeds to the last retry of the default schedule,
// about 28 hours later (27.6 h of delays, plus jitter and the tries themselves: up to ~33 h), so up to 2 days.
const DELIVERY_LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400, 129_600, 172_800];

/** Fills in the defaults and refuses a prefix Prometheus would not accept. */
export function resolveMetricsOptions(options: WebhooksMetricsOptions): ResolvedWebhooksMetricsOptions {
  const prefix = options.prefix ?? 'webhooks_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) throw new Error(`WebhooksMetricsModule: prefix "${prefix}" is not a valid start of a Prometheus metric name`);
  return {
    registry: options.registry,
    prefix,
    buckets: {
      tryDuration: options.buckets?.tryDuration ?? TRY_DURATION_BUCKETS,
      deliveryLatency: options.buckets?.deliveryLatency ?? DELIVERY_LATENCY_BUCKETS,
    },
    eventLabel: options.eventLabel ?? false,
    scrapeTimeoutMs: positive('scrapeTimeoutMs', options.scrapeTimeoutMs ?? 2000),
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`WebhooksMetricsModule: ${name} must be a positive number of milliseconds, not ${String(value)}`);
  return value;
}
