import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionPosition, WebhookStore } from '../../libs/webhooks/src/storage/webhook-store.js';
import type { WebhookSubscription } from '../../libs/webhooks/src/core/webhook-subscription.js';
import { openStore, STORE_ENGINES, subscriptionRecord } from '../support/stores.js';

const T0 = new Date('2026-12-01T00:00:00.000Z');

function subscription(id: string, createdAt: Date, ownerId: string): WebhookSubscription {
  return subscriptionRecord({ id, createdAt, ownerId });
}

/**
 * Nine subscriptions of two owners, inserted out of order: three share one creation time (so only their ids order
 * them), and an id that sorts first was created last (ids need not follow the clock).
 */
const ROWS: Array<[id: string, minute: number, owner: string]> = [
  ['c-3', 1, 'alice'],
  ['a-1', 1, 'alice'],
  ['b-2', 1, 'bob'],
  ['d-4', 0, 'alice'],
  ['e-5', 2, 'alice'],
  ['0-last', 9, 'alice'],
  ['f-6', 3, 'bob'],
  ['g-7', 3, 'alice'],
  ['h-8', 5, 'alice'],
];
/** The listing order: creation time, then id. */
const ORDER = ['d-4', 'a-1', 'b-2', 'c-3', 'e-5', 'f-6', 'g-7', 'h-8', '0-last'];

describe.each(STORE_ENGINES)('listing stored subscriptions in creation order, by keyset (%s store)', (kind) => {
  let store: WebhookStore;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ store, close } = await openStore(kind));
    for (const [id, minute, owner] of ROWS) {
      await store.insertSubscription(subscription(id, new Date(T0.getTime() + minute * 60_000), owner), { secrets: [], headers: {} });
    }
  });

  afterAll(async () => {
    await close?.();
  });

  const ids = (list: WebhookSubscription[]) => list.map((s) => s.id);
  const position = (s: WebhookSubscription): SubscriptionPosition => ({ createdAt: s.createdAt, id: s.id });

  it('lists by creation time, then id', async () => {
    expect(ids(await store.listSubscriptions())).toEqual(ORDER);
  });

  it('pages with `after` (the last of the previous page) without skipping or repeating, also within one creation time', async () => {
    const seen: string[] = [];
    let after: SubscriptionPosition | undefined;
    for (let page = 0; page < 10; page++) {
      const rows = await store.listSubscriptions({ limit: 2, after });
      seen.push(...ids(rows));
      if (rows.length < 2) break;
      after = position(rows.at(-1)!);
    }
    expect(seen).toEqual(ORDER);
  });

  it('combines `after` with the owner filter, and a position of a deleted subscription still pages on', async () => {
    const alice = ORDER.filter((id) => ROWS.find(([rowId]) => rowId === id)![2] === 'alice');
    const first = await store.listSubscriptions({ ownerId: 'alice', limit: 3 });
    expect(ids(first)).toEqual(alice.slice(0, 3));
    const rest = await store.listSubscriptions({ ownerId: 'alice', after: position(first.at(-1)!) });
    expect(ids(rest)).toEqual(alice.slice(3));

    // The position is a value, not a row: it keeps working after that row is gone.
    const gone = first.at(-1)!;
    await store.deleteSubscription(gone.id);
    expect(ids(await store.listSubscriptions({ ownerId: 'alice', after: position(gone) }))).toEqual(alice.slice(3));
    expect(ids(await store.listSubscriptions({ after: { createdAt: new Date(T0.getTime() + 9 * 60_000), id: '0-last' } }))).toEqual([]);
  });
});
