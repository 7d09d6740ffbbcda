import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ResolvedWebhooksMetricsOptions } from './webhooks-metrics.options.js';
import type { ScrapeReads, SubscriptionState } from './scrape-reads.js';

/** What this process holds right now (`WebhookDeliveryManager.stats`). */
export type QueueStats = () => { queued: number; active: number };

type Collect = (this: Gauge<string>) => void | Promise<void>;

const seconds = (ms: number) => Math.max(0, ms) / 1000;

/**
 * The library's metrics in one registry: counters and histograms the deliveries feed, and gauges read when
 * Prometheus scrapes. A name the registry already holds is refused (another application, or another module, on a
 * shared registry): each series has one source.
 */
export class WebhookMetricSet {
  readonly tries: Counter<string>;
  readonly resolved: Counter<string>;
  readonly tryDuration: Histogram<string>;
  readonly deliveryLatency: Histogram<string>;
  readonly deactivations: Counter<string>;
  readonly cancelled: Counter<string>;
  private readonly names: string[] = [];

  constructor(
    private readonly registry: Registry,
    private readonly options: ResolvedWebhooksMetricsOptions,
    reads: ScrapeReads,
    stats: QueueStats,
  ) {
    const event = options.eventLabel ? ['event'] : [];
    const { tryDuration, deliveryLatency } = options.buckets;
    this.tries = this.counter(
      'tries_total',
      'Tries of webhook deliveries that ended, by what follows (successful, retrying, failed), HTTP status class (none: no answer) and error code (none: an answer)',
      ['outcome', 'status_class', 'error_code', ...event],
    );
    this.resolved = this.counter('attempts_resolved_total', 'Deliveries (attempts) resolved by this process, by status', ['status', ...event]);
    this.tryDuration = this.histogram('try_duration_seconds', 'Duration of tries that sent a request, by HTTP status class (none: no answer)', ['status_class', ...event], tryDuration);
    this.deliveryLatency = this.histogram('delivery_latency_seconds', "From an attempt's creation (its event committed) to its successful try, retries included", event, deliveryLatency);
    this.deactivations = this.counter('subscription_deactivations_total', 'Subscriptions deactivated, by reason', ['reason']);
    this.cancelled = this.counter(
      'attempts_cancelled_total',
      'Pending attempts cancelled without a try when their subscription was deactivated (by the reason) or deleted (reason="deleted")',
      ['reason'],
    );

    if (!options.eventLabel) this.initializeSeries();

    this.gauge('outbox_pending', 'Attempts waiting to be sent or retried, across every process sharing the store', async function () {
      const { outbox } = await reads.read();
      if (outbox) this.set(outbox.pending);
    });
    this.gauge('outbox_oldest_pending_age_seconds', 'Age of the oldest pending attempt (retries waiting for their time included); 0 when none', async function () {
      const { outbox, now } = await reads.read();
      if (outbox) this.set(outbox.oldestPendingAt ? seconds(now.getTime() - outbox.oldestPendingAt.getTime()) : 0);
    });
    this.gauge('outbox_lag_seconds', 'How long the longest-waiting due attempt has waited past its due time (retries not yet due do not count); 0 when none', async function () {
      const { outbox, now } = await reads.read();
      if (outbox) this.set(outbox.oldestDueAt ? seconds(now.getTime() - outbox.oldestDueAt.getTime()) : 0);
    });
    this.gauge('requests_in_flight', 'Webhook requests in flight from this process', function () {
      this.set(stats().active);
    });
    this.gauge('queued_attempts', 'Attempts this process holds waiting for a free request slot', function () {
      this.set(stats().queued);
    });
    const states = async function (this: Gauge<string>) {
      const { subscriptions } = await reads.read();
      if (!subscriptions) return;
      for (const state of Object.keys(subscriptions) as SubscriptionState[]) this.set({ state }, subscriptions[state]);
    };
    this.gauge('subscriptions', 'Subscriptions by state: active, failing (active, every delivery failing lately) and inactive', states, ['state']);
    this.gauge('store_up', '1 when the store answered the reads of this scrape in time (scrapeTimeoutMs), else 0 (the outbox and subscription gauges then keep their last values)', async function () {
      const { outbox, subscriptions } = await reads.read();
      this.set(outbox && subscriptions ? 1 : 0);
    });
  }

  /**
   * The series alerts divide by exist from the start at 0, so a rate over them is 0, not "no data", before the first
   * delivery (with the event label, the series are the events', known only as they come).
   */
  private initializeSeries(): void {
    for (const status of ['successful', 'failed']) this.resolved.inc({ status }, 0);
    for (const [outcome, status_class] of [['successful', '2xx'], ['retrying', '5xx'], ['failed', '4xx']]) {
      this.tries.inc({ outcome, status_class, error_code: 'none' }, 0);
    }
  }

  /** Takes the metrics out of the registry (the application stops; a shared registry stays usable). */
  unregister(): void {
    for (const name of this.names.splice(0)) this.registry.removeSingleMetric(name);
  }

  private counter(name: string, help: string, labelNames: string[]): Counter<string> {
    return new Counter({ name: this.claim(name), help, labelNames, registers: [this.registry] });
  }

  private histogram(name: string, help: string, labelNames: string[], buckets: number[]): Histogram<string> {
    return new Histogram({ name: this.claim(name), help, labelNames, buckets, registers: [this.registry] });
  }

  private gauge(name: string, help: string, collect: Collect, labelNames: string[] = []): Gauge<string> {
    return new Gauge({ name: this.claim(name), help, labelNames, collect, registers: [this.registry] });
  }

  /** The full name, once the registry is known not to hold it already. */
  private claim(name: string): string {
    const full = this.options.prefix + name;
    if (this.registry.getSingleMetric(full)) {
      this.unregister();
      throw new Error(`WebhooksMetricsModule: the registry already has a metric "${full}"; give each application its own registry (the default) or its own prefix`);
    }
    this.names.push(full);
    return full;
  }
}
