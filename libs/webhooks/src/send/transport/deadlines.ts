/** Something with a deadline: `expire` runs once if it is still tracked when the deadline passes. */
export interface Expiring {
  deadline: number;
  expire(): void;
}

/**
 * Total deadlines for many requests with one timer per distinct timeout, instead of a `setTimeout` per
 * request (which showed up in the delivery profile). Requests with the same timeout expire in the order they
 * started, so each group is a FIFO and its timer is armed for the oldest entry still in flight.
 */
export class Deadlines {
  private readonly groups = new Map<number, DeadlineGroup>();

  /** Tracks `entry` for `timeoutMs` from now; call `untrack` when it ends. */
  track(entry: Expiring, timeoutMs: number): void {
    let group = this.groups.get(timeoutMs);
    if (!group) this.groups.set(timeoutMs, (group = new DeadlineGroup()));
    entry.deadline = performance.now() + timeoutMs;
    group.add(entry);
  }

  untrack(entry: Expiring, timeoutMs: number): void {
    this.groups.get(timeoutMs)?.delete(entry);
  }
}

class DeadlineGroup {
  private readonly entries = new Set<Expiring>();
  private timer: NodeJS.Timeout | null = null;

  add(entry: Expiring): void {
    this.entries.add(entry);
    if (!this.timer) this.arm(entry.deadline);
  }

  delete(entry: Expiring): void {
    this.entries.delete(entry);
    if (this.entries.size === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(() => this.fire(), Math.max(0, deadline - performance.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    const now = performance.now();
    for (const entry of this.entries) {
      if (entry.deadline > now) return this.arm(entry.deadline);
      this.entries.delete(entry);
      entry.expire();
    }
  }
}
