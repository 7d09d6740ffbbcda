/**
 * When the queue claims from the store: every poll interval, sooner when a retry falls due (`wakeIn`), and when a
 * put-off claim may run (`putOffUntil`). Polls never overlap: one asked for while another runs runs right after it.
 */
export class PollSchedule {
  private pollTimer: NodeJS.Timeout | null = null;
  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private putOffTimer: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private pollAgain = false;
  private stopped = false;

  constructor(
    private readonly claim: () => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Polls now (or right after the poll running now), then again after the interval. */
  poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return this.polling;
    }
    this.polling = (async () => {
      try {
        await this.claim();
      } catch (error) {
        this.onError(error);
      } finally {
        this.polling = null;
        const again = this.pollAgain;
        this.pollAgain = false;
        this.schedule(again ? 0 : this.intervalMs);
      }
    })();
    return this.polling;
  }

  schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), delayMs);
    this.pollTimer.unref();
  }

  /** Polls in `delayMs` (real time) unless a poll is due sooner anyway. */
  wakeIn(delayMs: number): void {
    if (delayMs >= this.intervalMs || this.stopped) return;
    const due = Date.now() + Math.max(0, delayMs);
    if (due >= this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeAt = due;
    this.wakeTimer = setTimeout(() => {
      this.wakeAt = Number.POSITIVE_INFINITY;
      void this.poll();
    }, Math.max(0, delayMs) + 1);
    this.wakeTimer.unref();
  }

  /** A claim was put off until `at` (`performance.now()`): poll then. One such timer at a time. */
  putOffUntil(at: number): void {
    if (this.putOffTimer || this.stopped) return;
    this.putOffTimer = setTimeout(
      () => {
        this.putOffTimer = null;
        void this.poll();
      },
      Math.max(1, at - performance.now()),
    );
    this.putOffTimer.unref();
  }

  /** A put-off poll is armed: asking for another claim now would only be put off again. */
  get puttingOff(): boolean {
    return this.putOffTimer !== null;
  }

  /** Stops every timer and waits for the poll running now. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of [this.pollTimer, this.wakeTimer, this.putOffTimer]) if (timer) clearTimeout(timer);
    await this.polling;
  }
}
