import TinyQueue from 'tinyqueue';

/** An attempt's place in the line: when it is due, and which attempt of which subscription. */
export interface DuePlace {
  readonly at: number;
  readonly id: string;
  readonly subscriptionId: string;
}

/** Earliest first; among equals, by id (attempt ids sort by creation time). */
const earliestFirst = (a: DuePlace, b: DuePlace) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The attempts a claim may take, earliest due first, so a claim costs what it takes and not the number of
 * pending attempts (scanning and sorting every pending attempt per claim made a backlog slower to drain the
 * longer it grew). One line per subscription, and a line of the subscriptions' first places: a claim passes
 * over a left-out subscription (an endpoint with no room) in one step, however long its backlog.
 *
 * Places are never removed in between: the store keeps the place it gave each attempt, and a place that is not
 * the attempt's current one when it comes up is skipped by the store.
 */
export class DueLine {
  private readonly lines = new Map<string, TinyQueue<DuePlace>>();
  /** Each non-empty line's first place (and possibly older firsts, skipped when they come up). */
  private readonly firsts = new TinyQueue<DuePlace>([], earliestFirst);

  add(subscriptionId: string, id: string, at: number): DuePlace {
    const place = { at, id, subscriptionId };
    let line = this.lines.get(subscriptionId);
    if (!line) {
      line = new TinyQueue<DuePlace>([], earliestFirst);
      this.lines.set(subscriptionId, line);
    }
    line.push(place);
    if (line.peek() === place) this.firsts.push(place);
    return place;
  }

  /**
   * The places due by `now`, earliest first, taken out as they are yielded; the lines of `excluded`
   * subscriptions are left as they are. Stop iterating to stop taking.
   */
  *due(now: number, excluded: ReadonlySet<string>): Generator<DuePlace, void, undefined> {
    const passedOver: DuePlace[] = [];
    try {
      for (;;) {
        const first = this.firsts.peek();
        if (first === undefined || first.at > now) return;
        this.firsts.pop();
        const line = this.lines.get(first.subscriptionId);
        if (line?.peek() !== first) continue;
        if (excluded.has(first.subscriptionId)) {
          passedOver.push(first);
          continue;
        }
        line.pop();
        const next = line.peek();
        if (next === undefined) this.lines.delete(first.subscriptionId);
        else this.firsts.push(next);
        yield first;
      }
    } finally {
      for (const first of passedOver) this.firsts.push(first);
    }
  }
}
