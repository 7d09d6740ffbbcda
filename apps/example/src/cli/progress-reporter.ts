/** Where progress goes: a terminal gets one line redrawn in place, anything else (CI, a log file) plain lines. */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const REDRAW_MS = 100;
const PLAIN_LINE_MS = 5_000;

/** Whole seconds, rounded up before they are split, so 119.6 s reads "2 min 0 s", never "1 min 60 s". */
function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.ceil(seconds);
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.ceil(whole / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** CI systems set `CI` to `true` or `1`; `CI=false` or `CI=0` (or empty) is not CI. */
function isCI(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/**
 * Reports how a long operation advances: count, rate and time left. On a terminal the line is redrawn at most ten
 * times a second; elsewhere (CI=true, a pipe) a plain line is written every 5 s and at each tenth of the way, so
 * logs stay readable. When the operation fails, `abort()` ends the redrawn line so the error starts on a line of its
 * own.
 */
export class ProgressReporter {
  private readonly startedAt: number;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private lastTenth = 0;
  private readonly interactive: boolean;
  /** A redrawn line is on the terminal, not yet ended. */
  private lineOpen = false;

  constructor(
    private readonly label: string,
    private readonly output: ProgressOutput = process.stderr,
    private readonly now: () => number = () => Date.now(),
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.startedAt = now();
    this.interactive = output.isTTY === true && !isCI(env.CI);
  }

  /** `done` of `total` items are through (the last figures are `finish`'s to write). */
  update(done: number, total: number): void {
    if (done >= total) return;
    const now = this.now();
    if (this.interactive) {
      if (now - this.lastWrite < REDRAW_MS && done < total) return;
      this.output.write(`\r\u001b[2K${this.describe(done, total, now)}`);
      this.lineOpen = true;
    } else {
      const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (now - this.lastWrite < PLAIN_LINE_MS && tenth === this.lastTenth) return;
      this.lastTenth = tenth;
      this.output.write(`${this.describe(done, total, now)}\n`);
    }
    this.lastWrite = now;
  }

  /** Ends the line (on a terminal) with the final figures. */
  finish(done: number, total: number): void {
    const line = this.describe(done, total, this.now());
    this.output.write(this.interactive ? `\r\u001b[2K${line}\n` : `${line}\n`);
    this.lineOpen = false;
  }

  /** The operation failed: ends the redrawn line (on a terminal) so what is printed next starts on its own line. */
  abort(): void {
    if (!this.lineOpen) return;
    this.output.write('\n');
    this.lineOpen = false;
  }

  /**
   * Runs `operation`, reporting what its listener hears, and finishes the line with the last figures; when it
   * fails, ends the line and rethrows.
   */
  async track<T>(operation: (onProgress: (progress: { done: number; total: number }) => void) => Promise<T>): Promise<T> {
    let last = { done: 0, total: 0 };
    let result: T;
    try {
      result = await operation((progress) => {
        last = progress;
        this.update(progress.done, progress.total);
      });
    } catch (error) {
      this.abort();
      throw error;
    }
    this.finish(last.done, last.total);
    return result;
  }

  /** "label: 1,200/5,000 (24 %), 400/s, about 10 s left" */
  describe(done: number, total: number, now = this.now()): string {
    const seconds = Math.max(now - this.startedAt, 1) / 1000;
    const rate = done / seconds;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    const count = `${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} (${percent} %)`;
    if (done >= total) return `${this.label}: ${count} in ${duration(seconds)}`;
    const left = rate > 0 ? `about ${duration((total - done) / rate)} left` : 'time left unknown';
    return `${this.label}: ${count}, ${Math.round(rate).toLocaleString('en-US')}/s, ${left}`;
  }
}
