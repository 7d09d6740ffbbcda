import { describe, expect, it } from 'vitest';
import { assessWebhooksHealth, type WorkerState } from '../../libs/webhooks/src/health/webhooks-health.assessment.js';

const NOW = new Date('2026-12-01T12:00:00.000Z');
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const LIMITS = { maxOutboxLagMs: 60_000, maxClaimAgeMs: 30_000 };
/** One attempt due 5 s ago (well within the lag limit). */
const DUE = { pending: 1, oldestPendingAt: ago(5000), oldestDueAt: ago(5000) };
const IDLE_WORKER: WorkerState = { worker: true, queued: 0, active: 0, lastClaimAt: ago(40_000) };

describe('assessing the webhooks health', () => {
  it('flags a worker that holds nothing and has not claimed due work for longer than maxClaimAgeMs', () => {
    expect(assessWebhooksHealth(DUE, IDLE_WORKER, NOW, LIMITS).problems).toEqual([
      'webhook attempts are due but this worker last claimed 40000 ms ago (maxClaimAgeMs: 30000)',
    ]);
    expect(assessWebhooksHealth(DUE, { ...IDLE_WORKER, lastClaimAt: null }, NOW, LIMITS).problems).toEqual([
      'webhook attempts are due but this worker has not claimed yet (maxClaimAgeMs: 30000)',
    ]);
  });

  it('gives a worker that has not claimed yet maxClaimAgeMs from its start', () => {
    const starting = { ...IDLE_WORKER, lastClaimAt: null, startedAt: ago(29_000) };
    expect(assessWebhooksHealth(DUE, starting, NOW, LIMITS).problems).toEqual([]);
    expect(assessWebhooksHealth(DUE, { ...starting, startedAt: ago(31_000) }, NOW, LIMITS).problems).toEqual([
      'webhook attempts are due but this worker has not claimed in the 31000 ms since it started (maxClaimAgeMs: 30000)',
    ]);
    // Once it has claimed, its last claim counts, not its start.
    expect(assessWebhooksHealth(DUE, { ...IDLE_WORKER, startedAt: ago(1000) }, NOW, LIMITS).problems).toHaveLength(1);
  });

  it.each([
    ['a process that only publishes', { ...IDLE_WORKER, worker: false }],
    ['a busy worker (a full queue claims nothing)', { ...IDLE_WORKER, active: 3 }],
    ['a worker whose queue does not report its claims', { ...IDLE_WORKER, lastClaimAt: undefined }],
    ['a worker that claimed lately', { ...IDLE_WORKER, lastClaimAt: ago(29_000) }],
  ])('does not flag %s', (_, state) => {
    expect(assessWebhooksHealth(DUE, state, NOW, LIMITS).problems).toEqual([]);
  });

  it('does not flag an idle worker when nothing is due yet, and reports the figures', () => {
    const waiting = { pending: 2, oldestPendingAt: ago(3_600_000), oldestDueAt: new Date(NOW.getTime() + 1000) };
    const { problems, details } = assessWebhooksHealth(waiting, IDLE_WORKER, NOW, LIMITS);
    expect(problems).toEqual([]);
    expect(details).toEqual({
      pending: 2,
      oldestPendingAgeMs: 3_600_000,
      outboxLagMs: 0,
      maxOutboxLagMs: 60_000,
      worker: true,
      queued: 0,
      active: 0,
      lastClaimAt: ago(40_000).toISOString(),
      maxClaimAgeMs: 30_000,
    });
  });

  it('flags the outbox lag whoever the process is when there is a limit, and both problems at once', () => {
    const late = { pending: 1, oldestPendingAt: ago(90_000), oldestDueAt: ago(61_000) };
    expect(assessWebhooksHealth(late, { ...IDLE_WORKER, worker: false }, NOW, LIMITS).problems).toEqual([
      'a due webhook attempt has waited 61000 ms for a worker (maxOutboxLagMs: 60000)',
    ]);
    const unchecked = assessWebhooksHealth(late, { ...IDLE_WORKER, worker: false }, NOW, { ...LIMITS, maxOutboxLagMs: null });
    expect(unchecked.problems).toEqual([]);
    expect(unchecked.details).toMatchObject({ outboxLagMs: 61_000, maxOutboxLagMs: null });
    expect(assessWebhooksHealth(late, IDLE_WORKER, NOW, LIMITS).problems).toHaveLength(2);
    expect(assessWebhooksHealth({ pending: 0, oldestPendingAt: null, oldestDueAt: null }, IDLE_WORKER, NOW, LIMITS).problems).toEqual([]);
  });
});
