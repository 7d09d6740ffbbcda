import type { INestApplicationContext } from '@nestjs/common';
import { WebhookClock } from '../core/clock.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import type { WebhookAttemptTriedEvent } from '../core/webhook-events.js';
import { WebhookEvents } from '../core/webhooks.constants.js';
import { WebhookDeliveryManager } from '../operations/webhook-delivery.manager.js';

/** How long `advance` waits for the tries it runs, at each step. */
const SETTLE_TIMEOUT_MS = 30_000;

/**
 * A `WebhookClock` a test moves by hand, which runs the tries falling due as it moves: a retry schedule of minutes
 * or hours runs at once, in order, and the same way every time.
 *
 * Provide it in place of the library's clock, then attach it to the application (`createWebhooksTestingModule` does
 * both). `advance(ms)` moves time to each retry falling due within `ms`, in turn, and at each one claims what is due
 * (`WebhookDeliveryManager.processDueAttempts()`) and waits until it is sent and recorded; a try it runs may
 * schedule another one inside the window, which runs too. The due times come from the `webhooks.attempt.tried`
 * events of the attached application.
 *
 * @example
 * const clock = new WebhookTestClock();
 * const moduleRef = await Test.createTestingModule({ imports: [
 *   EventEmitterModule.forRoot(),
 *   WebhooksModule.forRoot(options, { providers: [{ provide: WebhookClock, useValue: clock }] }),
 * ] }).compile();
 * const app = await moduleRef.createNestApplication().init();
 * clock.attach(app);
 * await clock.advance(5 * 60_000); // every retry due in the next 5 minutes is sent
 */
export class WebhookTestClock extends WebhookClock {
  private current: number;
  private delivery: WebhookDeliveryManager | null = null;
  /** When each attempt of the attached application is due again, by id. */
  private readonly due = new Map<string, number>();
  private unobserve: (() => void) | null = null;

  /** @param start where time starts. @default now */
  constructor(start: Date | number = Date.now()) {
    super();
    this.current = typeof start === 'number' ? start : start.getTime();
  }

  override now(): Date {
    return new Date(this.current);
  }

  /** Runs the tries of `app` (its `WebhookDeliveryManager`, and the retries it schedules) as time moves. */
  attach(app: Pick<INestApplicationContext, 'get'>): this {
    this.detach();
    this.delivery = app.get(WebhookDeliveryManager, { strict: false });
    this.unobserve = app.get(WebhookEventPublisher, { strict: false }).observe((name, event) => {
      if (name !== WebhookEvents.AttemptTried) return;
      const { attempt } = event as WebhookAttemptTriedEvent;
      if (attempt.status === 'pending' && attempt.nextAttemptAt) this.due.set(attempt.id, attempt.nextAttemptAt.getTime());
      else this.due.delete(attempt.id);
    });
    return this;
  }

  /** Stops running tries (time still moves). */
  detach(): void {
    this.unobserve?.();
    this.unobserve = null;
    this.delivery = null;
    this.due.clear();
  }

  /** The next time a retry of the attached application is due, if one is scheduled. */
  get nextDueAt(): Date | null {
    const next = this.earliest();
    return next ? new Date(next[1]) : null;
  }

  /**
   * Moves time `ms` forward, running every try that falls due on the way (at its own due time) and waiting until
   * each is sent and recorded. Without an attached application it only moves time.
   */
  async advance(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms): ms must be a finite number >= 0; got ${ms}`);
    await this.runUntil(this.current + ms);
  }

  /** Moves time to `at` (not backwards), running what falls due on the way, as `advance` does. */
  async advanceTo(at: Date | number): Promise<void> {
    const target = typeof at === 'number' ? at : at.getTime();
    if (target < this.current) throw new RangeError(`advanceTo(): ${new Date(target).toISOString()} is before the clock (${this.now().toISOString()})`);
    await this.runUntil(target);
  }

  /** Sends what is due now, without moving time, and waits until it is recorded. */
  async runDue(): Promise<void> {
    const delivery = this.delivery;
    if (!delivery) return;
    await delivery.processDueAttempts();
    await delivery.waitForPendingDeliveries(SETTLE_TIMEOUT_MS);
  }

  private async runUntil(target: number): Promise<void> {
    await this.runDue();
    for (let next = this.earliest(); this.delivery && next && next[1] <= target; next = this.earliest()) {
      const [id, at] = next;
      if (at > this.current) this.current = at;
      await this.runDue();
      // Not tried although due (another process holds it, or it was resolved without a try): not waited for again.
      if (this.due.get(id) === at) this.due.delete(id);
    }
    this.current = target;
    await this.runDue();
  }

  private earliest(): [string, number] | null {
    let found: [string, number] | null = null;
    for (const [id, at] of this.due) if (!found || at < found[1]) found = [id, at];
    return found;
  }
}
