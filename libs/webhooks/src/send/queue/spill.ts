import type { Logger } from '@nestjs/common';
import type { WebhookStore } from '../../storage/webhook-store.js';
import { describeError } from '../../core/describe-error.js';

/**
 * Attempts that do not fit in the queue are handed back to the store ("spilled"). Until they are claimed back, their
 * endpoint's new attempts follow them there, so they do not overtake the older ones; an attempt handed back while a
 * claim runs comes back with the claim right after it.
 */
export class Spill {
  /** Endpoints with attempts handed back to the store for lack of room, not yet claimed back. */
  readonly endpoints = new Set<string>();
  /** One set per claim in progress: the endpoints handed back since it began (it may not have seen those). */
  private readonly claimsRunning = new Set<Set<string>>();
  /** Hand-backs still being written: a claim waits for them, or it would not see those attempts. */
  private readonly handingBack = new Set<Promise<void>>();

  constructor(
    private readonly store: WebhookStore,
    private readonly workerId: string,
    private readonly logger: Logger,
  ) {}

  /** The endpoint has attempts handed back to the store; claims in progress may not have seen them. */
  mark(endpoint: string): void {
    this.endpoints.add(endpoint);
    for (const handedBack of this.claimsRunning) handedBack.add(endpoint);
  }

  /** Releases the claims of these attempts; `then` runs once the store has them back. */
  handBack(ids: readonly string[], then?: () => void): void {
    const released: Promise<void> = this.store
      .releaseClaims(this.workerId, ids)
      .then(then, (error: unknown) => {
        this.logger.warn(`Releasing ${ids.length} overflowing claim(s) failed; they expire with their lease: ${describeError(error)}`);
      })
      .finally(() => this.handingBack.delete(released));
    this.handingBack.add(released);
  }

  /** Starts watching for hand-backs on behalf of a claim: after waiting for those still being written. */
  async beginClaim(): Promise<Set<string>> {
    const handedBack = new Set<string>();
    this.claimsRunning.add(handedBack);
    if (this.handingBack.size > 0) await Promise.all(this.handingBack);
    return handedBack;
  }

  endClaim(handedBack: Set<string>): void {
    this.claimsRunning.delete(handedBack);
  }
}
