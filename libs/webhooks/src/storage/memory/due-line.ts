import TinyQueue from 'tinyqueue';

/** An attempt's place in the line: when it is due, and which attempt. */
export interface DuePlace {
  readonly at: number;
  readonly id: string;
}

/** Earliest first; among equals, by id (attempt ids sort by creation time). */
const earliestFirst = (a: DuePlace, b: DuePlace) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The attempts a claim may take, earliest due first, so a claim costs what it takes and not the number of
 * pending attempts (a backlog handed back by a full queue is claimed back in slices; scanning and sorting every
 * pending attempt for each slice made the backlog slower to drain the longer it grew). Places are added when
 * an attempt becomes claimable and never removed in between: the store keeps the place it gave an attempt,
 * and a place that is not the current one when it comes up is skipped.
 */
export class DueLine {
  private readonly heap = new TinyQueue<DuePlace>([], earliestFirst);

  get size(): number {
    return this.heap.length;
  }

  add(id: string, at: number): DuePlace {
    const place = { at, id };
    this.heap.push(place);
    return place;
  }

  /** Removes and returns the earliest place due by `now`, or undefined when none is. */
  takeDue(now: number): DuePlace | undefined {
    const first = this.heap.peek();
    return first !== undefined && first.at <= now ? this.heap.pop() : undefined;
  }
}
