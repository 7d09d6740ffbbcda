import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Registry } from 'prom-client';
import { findWebhookServices } from '../operations/webhook-services.js';
import { DeliveryRecorder } from './delivery-recorder.js';
import { ScrapeReads } from './scrape-reads.js';
import { WebhookMetricSet } from './webhook-metric-set.js';
import { type ResolvedWebhooksMetricsOptions, resolveMetricsOptions, WEBHOOKS_METRICS_OPTIONS, type WebhooksMetricsOptions } from './webhooks-metrics.options.js';

/**
 * The webhook metrics of this application, to serve from a controller of your own:
 * `res.type(metrics.contentType).send(await metrics.metrics())`. They start counting when the application
 * initializes and leave the registry when it closes.
 */
@Injectable()
export class WebhookMetrics implements OnModuleInit, OnModuleDestroy {
  /** The prom-client registry holding the metrics: the application's own, or the one given to `forRoot`. */
  readonly registry: Registry;
  private readonly options: ResolvedWebhooksMetricsOptions;
  private metricSet: WebhookMetricSet | null = null;
  private stopObserving: (() => void) | null = null;

  constructor(
    @Inject(WEBHOOKS_METRICS_OPTIONS) options: WebhooksMetricsOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.options = resolveMetricsOptions(options);
    this.registry = this.options.registry ?? new Registry();
  }

  /** The Content-Type of `metrics()` (Prometheus' text format, or OpenMetrics if the registry was made for it). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the registry in its exposition format; the scrape-time gauges read the store now. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  onModuleInit(): void {
    const services = findWebhookServices(this.moduleRef, 'WebhooksMetricsModule');
    this.metricSet = new WebhookMetricSet(this.registry, this.options, new ScrapeReads(services, this.options.scrapeTimeoutMs), () => services.delivery.stats);
    const recorder = new DeliveryRecorder(this.metricSet, this.options.eventLabel);
    this.stopObserving = services.events.observe((name, event) => recorder.record(name, event));
  }

  onModuleDestroy(): void {
    this.stopObserving?.();
    this.metricSet?.unregister();
  }
}
