/** Where progress goes: a terminal gets one line redrawn in place, anything else (CI, a log file) plain lines. */
export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

const REDRAW_MS = 100;
const PLAIN_LINE_MS = 5_000;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.ceil(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.ceil((seconds % 3600) / 60)} min`;
}

/**
 * Reports how a long operation advances: count, rate and time left. On a terminal the line is redrawn at most ten
 * times a second; elsewhere (CI=true, a pipe) a plain line is written every 5 s and at each tenth of the way, so
 * logs stay readable.
 */
export class ProgressReporter {
  private readonly startedAt: number;
  private lastWrite = Number.NEGATIVE_INFINITY;
  private lastTenth = 0;
  private readonly interactive: boolean;

  constructor(
    private readonly label: string,
    private readonly output: ProgressOutput = process.stderr,
    private readonly now: () => number = () => Date.now(),
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.startedAt = now();
    this.interactive = output.isTTY === true && !env.CI;
  }

  /** `done` of `total` items are through (the last figures are `finish`'s to write). */
  update(done: number, total: number): void {
    if (done >= total) return;
    const now = this.now();
    if (this.interactive) {
      if (now - this.lastWrite < REDRAW_MS && done < total) return;
      this.output.write(`\r\u001b[2K${this.describe(done, total, now)}`);
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
