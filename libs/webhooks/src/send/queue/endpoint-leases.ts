import { Logger } from '@nestjs/common';
import type { WebhookClock } from '../../core/clock.js';
import type { WebhookStore } from '../../storage/webhook-store.js';

interface Waiter {
  endpoint: string;
  resolve: (mine: boolean) => void;
}

/**
 * Which endpoints this worker may send to. On a store shared by several processes an endpoint is served by one
 * worker at a time (a lease in the store, renewed while the worker has work for it and given up when it has
 * none), so `perEndpointConcurrency` holds for all processes together: N workers never put N times the load on
 * one receiver. A worker that dies loses its endpoints when their leases run out (`delivery.leaseMs`).
 */
export class EndpointLeases {
  private readonly logger = new Logger('WebhookEndpointLeases');
  /** Endpoints this worker holds, and until when. */
  private readonly held = new Map<string, number>();
  /** Endpoints another worker holds: until when (their lease as last read), and when that was read. */
  private readonly elsewhere = new Map<string, { until: number; readAt: number }>();
  private waiting: Waiter[] = [];
  private scheduled = false;

  constructor(
    private readonly store: WebhookStore,
    private readonly workerId: string,
    private readonly leaseMs: number,
    private readonly clock: WebhookClock,
  ) {}

  /** False for a store no other process uses: every endpoint is this process's. */
  get enabled(): boolean {
    return this.store.shared;
  }

  /**
   * Whether this worker may send to `endpoint` now: synchronously while its lease has more than a third left (or
   * another worker's is live), otherwise after taking or renewing it (the requests of one turn share one write).
   * False when the store could not be asked.
   */
  mayServe(endpoint: string): boolean | Promise<boolean> {
    if (!this.enabled) return true;
    const now = this.clock.now().getTime();
    if ((this.held.get(endpoint) ?? 0) - now > this.leaseMs / 3) return true;
    if ((this.elsewhere.get(endpoint)?.until ?? 0) > now) return false;
    return new Promise((resolve) => {
      this.waiting.push({ endpoint, resolve });
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(() => void this.acquireWaiting());
    });
  }

  /** Endpoints another worker serves now: their attempts are left to it when claiming. */
  servedElsewhere(): Set<string> {
    const now = this.clock.now().getTime();
    const result = new Set<string>();
    for (const [endpoint, { until }] of this.elsewhere) {
      if (until > now) result.add(endpoint);
      else this.elsewhere.delete(endpoint);
    }
    return result;
  }

  /**
   * Reads again the endpoints another worker held when last read more than `olderThanMs` ago (taking those it gave
   * up): a worker that stopped gracefully deleted its leases, which must not wait for what was read of them to run out.
   */
  async recheck(olderThanMs: number): Promise<void> {
    const now = this.clock.now().getTime();
    const stale = [...this.elsewhere].filter(([, { readAt }]) => readAt + olderThanMs <= now).map(([endpoint]) => endpoint);
    if (stale.length === 0) return;
    try {
      await this.acquire(stale);
    } catch (error) {
      this.logger.warn(`Reading endpoint leases failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Makes the next `recheck` read every endpoint held elsewhere (a worker signalled that it handed work back). */
  recheckAll(): void {
    for (const held of this.elsewhere.values()) held.readAt = Number.NEGATIVE_INFINITY;
  }

  /** Renews the leases of endpoints this worker has work for and gives up the others. */
  async renew(busy: ReadonlySet<string>): Promise<void> {
    if (!this.enabled) return;
    const idle = [...this.held.keys()].filter((endpoint) => !busy.has(endpoint));
    const keep = [...this.held.keys()].filter((endpoint) => busy.has(endpoint));
    try {
      if (idle.length > 0) {
        for (const endpoint of idle) this.held.delete(endpoint);
        await this.store.releaseEndpoints(this.workerId, idle);
      }
      if (keep.length > 0) await this.acquire(keep);
    } catch (error) {
      this.logger.warn(`Renewing endpoint leases failed: ${(error as Error)?.message ?? String(error)}`);
    }
  }

  /** Gives up every endpoint (shutdown), so other workers serve them at once. */
  async releaseAll(): Promise<void> {
    if (!this.enabled) return;
    this.held.clear();
    await this.store.releaseEndpoints(this.workerId);
  }

  private async acquireWaiting(): Promise<void> {
    this.scheduled = false;
    const waiting = this.waiting;
    this.waiting = [];
    let mine: Set<string>;
    try {
      mine = await this.acquire([...new Set(waiting.map((w) => w.endpoint))]);
    } catch (error) {
      this.logger.warn(`Taking endpoint leases failed: ${(error as Error)?.message ?? String(error)}`);
      mine = new Set();
    }
    for (const waiter of waiting) waiter.resolve(mine.has(waiter.endpoint));
  }

  /** Takes or renews the leases; returns the endpoints this worker holds afterwards. */
  private async acquire(endpoints: readonly string[]): Promise<Set<string>> {
    const now = this.clock.now();
    const leases = await this.store.acquireEndpoints(this.workerId, endpoints, now, new Date(now.getTime() + this.leaseMs));
    const mine = new Set<string>();
    for (const endpoint of endpoints) {
      const lease = leases.get(endpoint);
      if (lease?.workerId === this.workerId) {
        this.held.set(endpoint, lease.expiresAt);
        this.elsewhere.delete(endpoint);
        mine.add(endpoint);
      } else {
        this.held.delete(endpoint);
        if (lease) this.elsewhere.set(endpoint, { until: lease.expiresAt, readAt: now.getTime() });
      }
    }
    return mine;
  }
}
