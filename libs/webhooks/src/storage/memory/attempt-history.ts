import type { AttemptCounts } from '../webhook-store.js';

/** One subscription's attempts in the memory store: ids in creation order, and the resolved ones in pruning order. */
export interface History {
  /** Every attempt id, in creation order. */
  ids: Set<string>;
  /** Resolved attempt ids in creation order (from `head`): the pruning order. */
  resolved: string[];
  head: number;
  counts: AttemptCounts;
}

/** Inserts a resolved id keeping `resolved` sorted (ids sort by creation time; most arrive near the end). */
export function insertSorted(history: History, id: string): void {
  const list = history.resolved;
  let i = list.length;
  while (i > history.head && list[i - 1]! > id) i--;
  list.splice(i, 0, id);
}
