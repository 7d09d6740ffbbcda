import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookStore } from '../../libs/webhooks/src/storage/webhook-store.js';
import type { WebhookAttempt } from '../../libs/webhooks/src/core/webhook-attempt.js';
import { pendingAttempt } from '../support/attempts.js';
import { openStore, STORE_ENGINES } from '../support/stores.js';

const T0 = new Date('2026-12-01T00:00:00.000Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** Twelve attempts a minute apart over three subscriptions and two events; every third one failed, every fourth still pending. */
function history(): WebhookAttempt[] {
  return Array.from({ length: 12 }, (_, i) =>
    pendingAttempt(at(i), {
      subscriptionId: `sub_${i % 3}`,
      eventName: i % 2 === 0 ? 'order.created' : 'order.paid',
      status: i % 4 === 0 ? 'pending' : i % 3 === 0 ? 'failed' : 'successful',
      nextAttemptAt: i % 4 === 0 ? at(i) : null,
    }),
  );
}

describe.each(STORE_ENGINES)('attempts across subscriptions (%s store)', (kind) => {
  let store: WebhookStore;
  let close: (() => Promise<void>) | undefined;
  let attempts: WebhookAttempt[];

  beforeAll(async () => {
    ({ store, close } = await openStore(kind));
    attempts = [];
    // One at a time, so ids (which sort by creation) follow the creation times.
    for (const attempt of history()) {
      attempts.push(attempt);
      await store.insertAttempts([attempt]);
    }
  });

  afterAll(async () => {
    await close?.();
  });

  const ids = (list: WebhookAttempt[]) => list.map((a) => a.id);
  const expected = (keep: (a: WebhookAttempt, i: number) => boolean) => ids(attempts.filter(keep).reverse());

  it('lists every attempt newest first, and pages by attempt id', async () => {
    expect(ids(await store.searchAttempts({}))).toEqual(expected(() => true));
    const first = await store.searchAttempts({ limit: 5 });
    const second = await store.searchAttempts({ limit: 5, before: first.at(-1)!.id });
    expect([...ids(first), ...ids(second)]).toEqual(expected(() => true).slice(0, 10));
  });

  it('filters by status, event, subscriptions and creation time, together', async () => {
    expect(ids(await store.searchAttempts({ status: 'failed' }))).toEqual(expected((a) => a.status === 'failed'));
    expect(ids(await store.searchAttempts({ eventName: 'order.paid' }))).toEqual(expected((a) => a.eventName === 'order.paid'));
    expect(ids(await store.searchAttempts({ subscriptionIds: ['sub_0', 'sub_2'] }))).toEqual(expected((a) => a.subscriptionId !== 'sub_1'));
    expect(await store.searchAttempts({ subscriptionIds: [] })).toEqual([]);
    expect(ids(await store.searchAttempts({ since: at(3), until: at(7) }))).toEqual(expected((_, i) => i >= 3 && i < 7));
    expect(ids(await store.searchAttempts({ since: at(9) }))).toEqual(expected((_, i) => i >= 9));
    expect(ids(await store.searchAttempts({ until: at(2) }))).toEqual(expected((_, i) => i < 2));
    expect(ids(await store.searchAttempts({ status: 'successful', eventName: 'order.created', subscriptionIds: ['sub_1'], since: at(1) }))).toEqual(
      expected((a, i) => a.status === 'successful' && a.eventName === 'order.created' && a.subscriptionId === 'sub_1' && i >= 1),
    );
  });

  it('returns attempts exactly as findAttempt reads them', async () => {
    const [newest] = await store.searchAttempts({ limit: 1 });
    expect(newest).toEqual(await store.findAttempt(newest!.id));
    expect(newest!.createdAt).toEqual(at(11));
  });

  it('counts the outbox: pending attempts, the oldest one, and the earliest due', async () => {
    expect(await store.outboxStats()).toEqual({ pending: 3, oldestPendingAt: at(0), oldestDueAt: at(0) });
    // The oldest one failed a try and waits for its retry: it is still the oldest pending, but no longer due first.
    const oldest = attempts[0]!;
    const retried = await store.recordTry(
      oldest,
      {
        status: 'pending',
        message: '500 Internal Server Error',
        request: null,
        response: null,
        try: { number: 1, startedAt: at(20), elapsedMs: 12, statusCode: 500, message: '500 Internal Server Error', errorCode: null },
        nextAttemptAt: at(60),
        exception: null,
      },
      at(20),
    );
    expect(retried?.nextAttemptAt).toEqual(at(60));
    expect(await store.outboxStats()).toEqual({ pending: 3, oldestPendingAt: at(0), oldestDueAt: at(4) });
  });
});
