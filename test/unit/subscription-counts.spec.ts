import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookStore } from '../../libs/webhooks/src/storage/webhook-store.js';
import type { WebhookSubscription } from '../../libs/webhooks/src/core/webhook-subscription.js';
import { openStore, STORE_ENGINES, subscriptionRecord } from '../support/stores.js';

const T0 = new Date('2026-12-01T00:00:00.000Z');

function subscription(id: string, active: boolean, failingSince: Date | null): WebhookSubscription {
  return subscriptionRecord({ id, active, statusMessage: active ? 'Active' : 'Deactivated', failingSince, createdAt: T0 });
}

/** Three active, two of them failing now, and two inactive (one deactivated while it was failing: inactive). */
const ROWS: Array<[id: string, active: boolean, failing: boolean]> = [
  ['a-1', true, false],
  ['a-2', true, true],
  ['a-3', true, true],
  ['a-4', true, false],
  ['a-5', true, false],
  ['i-1', false, false],
  ['i-2', false, true],
];
const EXPECTED = { active: 3, failing: 2, inactive: 2 };

describe.each(STORE_ENGINES)('counting stored subscriptions by state (%s store)', (kind) => {
  let store: WebhookStore;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ store, close } = await openStore(kind));
  });

  afterAll(async () => {
    await close?.();
  });

  it('answers zeros for an empty store, then active, failing (active with failingSince) and inactive', async () => {
    expect(await store.countSubscriptions()).toEqual({ active: 0, failing: 0, inactive: 0 });
    for (const [id, active, failing] of ROWS) {
      await store.insertSubscription(subscription(id, active, failing ? T0 : null), { secrets: [], headers: {} });
    }
    expect(await store.countSubscriptions()).toEqual(EXPECTED);
    // The contract's default (for stores with no grouped query) pages through the listing to the same answer.
    expect(await WebhookStore.prototype.countSubscriptions.call(store)).toEqual(EXPECTED);

    await store.updateSubscription('a-2', { failingSince: null });
    await store.updateSubscription('a-1', { active: false, statusMessage: 'Deactivated' });
    expect(await store.countSubscriptions()).toEqual({ active: 3, failing: 1, inactive: 3 });
  });
});
