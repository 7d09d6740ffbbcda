import { describe, expect, it } from 'vitest';
import { MemoryWebhookStore } from '../../libs/webhooks/src/storage/memory/memory-webhook.store.js';
import type { AttemptTryResult } from '../../libs/webhooks/src/storage/webhook-store.js';
import { pendingAttempt } from '../support/attempts.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms);
const LEASE = 60_000;

/** `count` new attempts of `subscriptionId`, due at `dueMs`, created in this order. */
function attempts(count: number, dueMs: number, subscriptionId = 'sub_1') {
  return Array.from({ length: count }, () => pendingAttempt(at(dueMs), { subscriptionId }));
}

const retryLater = (nextMs: number): AttemptTryResult => ({
  status: 'pending',
  message: '503 Service Unavailable',
  request: null,
  response: null,
  try: { number: 1, startedAt: at(0), elapsedMs: 1, statusCode: 503, message: '503 Service Unavailable', errorCode: null },
  nextAttemptAt: at(nextMs),
  exception: null,
});

const ids = (list: ReadonlyArray<{ id: string }>) => list.map((a) => a.id);

describe('memory store: claims', () => {
  it('claims the earliest due first, in creation order among equals, a slice at a time, each attempt once', async () => {
    const store = new MemoryWebhookStore();
    const later = attempts(3, 5);
    const earlier = attempts(4, 1);
    await store.insertAttempts([...later, ...earlier]);

    const first = await store.claimDue('w', at(10), at(10 + LEASE), 5);
    const second = await store.claimDue('w', at(10), at(10 + LEASE), 5);
    const third = await store.claimDue('w', at(10), at(10 + LEASE), 5);

    expect(ids(first)).toEqual(ids([...earlier, later[0]!]));
    expect(ids(second)).toEqual(ids(later.slice(1)));
    expect(third).toEqual([]);
  });

  it('leaves attempts that are not due yet, and the attempts of excluded subscriptions, for a later claim', async () => {
    const store = new MemoryWebhookStore();
    const [dueA, dueB] = [attempts(2, 0, 'sub_a'), attempts(2, 0, 'sub_b')];
    const future = attempts(1, 1000, 'sub_a');
    await store.insertAttempts([...dueA, ...dueB, ...future]);

    expect(ids(await store.claimDue('w', at(10), at(LEASE), 10, { excludeSubscriptions: ['sub_a'] }))).toEqual(ids(dueB));
    expect(ids(await store.claimDue('w', at(10), at(LEASE), 10))).toEqual(ids(dueA));
    expect(ids(await store.claimDue('w', at(1000), at(LEASE), 10))).toEqual(ids(future));
  });

  it('takes back released attempts, and a retry only when it falls due', async () => {
    const store = new MemoryWebhookStore();
    const [a, b] = attempts(2, 0);
    await store.insertAttempts([a!, b!], undefined, { workerId: 'w', leaseUntil: at(LEASE) });
    expect(await store.claimDue('x', at(1), at(LEASE), 10)).toEqual([]);

    await store.releaseClaims('w', [b!.id]);
    await store.recordTry(a!, retryLater(500), at(2));

    expect(ids(await store.claimDue('x', at(3), at(LEASE), 10))).toEqual([b!.id]);
    expect(await store.claimDue('x', at(499), at(LEASE), 10)).toEqual([]);
    const retried = await store.claimDue('x', at(500), at(LEASE), 10);
    expect(ids(retried)).toEqual([a!.id]);
    expect(retried[0]!.tries).toBe(1);
  });

  it('takes over attempts whose lease ran out, not those whose lease was renewed, and never resolved ones', async () => {
    const store = new MemoryWebhookStore();
    const [kept, abandoned, resolved] = attempts(3, 0);
    await store.insertAttempts([kept!, abandoned!, resolved!], undefined, { workerId: 'w', leaseUntil: at(1000) });
    await store.renewClaims('w', [kept!.id], at(5000));
    await store.recordTry(resolved!, { ...retryLater(0), status: 'successful', message: '200 OK', nextAttemptAt: null }, at(1));

    expect(await store.claimDue('x', at(999), at(LEASE), 10)).toEqual([]);
    expect(ids(await store.claimDue('x', at(1000), at(1000 + LEASE), 10))).toEqual([abandoned!.id]);
    expect(await store.claimDue('y', at(4999), at(LEASE), 10)).toEqual([]);
    expect(ids(await store.claimDue('y', at(5000), at(5000 + LEASE), 10))).toEqual([kept!.id]);
  });

  it('takes over a lease renewed after it had run out once the renewal runs out too', async () => {
    const store = new MemoryWebhookStore();
    const [late] = attempts(1, 0);
    await store.insertAttempts([late!], undefined, { workerId: 'w', leaseUntil: at(100) });
    // The lease has run out; this claim lines the attempt up, but leaves its subscription out.
    expect(await store.claimDue('x', at(150), at(LEASE), 10, { excludeSubscriptions: ['sub_1'] })).toEqual([]);
    await store.renewClaims('w', [late!.id], at(300));

    expect(await store.claimDue('x', at(200), at(LEASE), 10)).toEqual([]);
    expect(ids(await store.claimDue('x', at(300), at(LEASE), 10))).toEqual([late!.id]);
  });

  it('forgets cleared attempts: a claim after clearing a subscription takes nothing of it', async () => {
    const store = new MemoryWebhookStore();
    await store.insertAttempts(attempts(3, 0, 'sub_gone'));
    const staying = attempts(1, 0);
    await store.insertAttempts(staying);
    await store.clearAttempts('sub_gone');

    expect(ids(await store.claimDue('w', at(1), at(LEASE), 10))).toEqual(ids(staying));
  });
});
