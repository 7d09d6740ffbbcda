import { Logger } from '@nestjs/common';
import { describeError } from '../core/describe-error.js';
import { SharedRead } from '../core/shared-read.js';
import type { WebhookServices } from '../operations/webhook-services.js';
import { subscriptionState } from '../storage/subscription-queries.js';
import type { OutboxStats, SubscriptionCounts } from '../storage/webhook-store.js';

/** A subscription's state as the metrics count it: `failing` is active with every delivery failing lately. */
export type SubscriptionState = keyof SubscriptionCounts;

/** What one scrape reads from the store; a part that could not be read in time is `null`. */
export interface ScrapeSnapshot {
  outbox: OutboxStats | null;
  subscriptions: SubscriptionCounts | null;
  /** The library clock's time of the read. */
  now: Date;
}

/**
 * The store reads behind the scrape-time gauges. Every gauge of one scrape shares one read (prom-client collects
 * them concurrently), so a scrape costs one outbox query and one grouped count of the subscriptions. Each read is bounded
 * by `timeoutMs`: prom-client waits for every gauge, so a store that hangs would otherwise hang every scrape.
 */
export class ScrapeReads {
  private readonly logger = new Logger('WebhookMetrics');
  private current: Promise<ScrapeSnapshot> | null = null;
  private readonly outbox: SharedRead<OutboxStats>;
  private readonly subscriptions: SharedRead<SubscriptionCounts>;

  constructor(
    private readonly services: WebhookServices,
    private readonly timeoutMs: number,
  ) {
    this.outbox = new SharedRead(() => services.delivery.outboxStats());
    this.subscriptions = new SharedRead(() => this.countSubscriptions());
  }

  /** This scrape's snapshot; it settles within `timeoutMs` whatever the store does. */
  read(): Promise<ScrapeSnapshot> {
    this.current ??= this.load().finally(() => {
      this.current = null;
    });
    return this.current;
  }

  private async load(): Promise<ScrapeSnapshot> {
    const [outbox, subscriptions] = await Promise.all([
      this.outbox.read(this.timeoutMs).catch((error: unknown) => this.failed('the outbox', error)),
      this.subscriptions.read(this.timeoutMs).catch((error: unknown) => this.failed('the subscriptions', error)),
    ]);
    return { outbox, subscriptions, now: this.services.clock.now() };
  }

  /** Static subscriptions from memory (each process has its own), stored ones in one grouped query. */
  private async countSubscriptions(): Promise<SubscriptionCounts> {
    const counts = await this.services.store.countSubscriptions();
    for (const subscription of await this.services.subscriptions.list({ source: 'static' })) counts[subscriptionState(subscription)]++;
    return counts;
  }

  private failed(what: string, error: unknown): null {
    this.logger.warn(`Reading ${what} for the metrics failed: ${describeError(error)}`);
    return null;
  }
}
