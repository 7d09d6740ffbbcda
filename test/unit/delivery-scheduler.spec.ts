import { describe, expect, it } from 'vitest';
import type { WebhookAttempt } from '../../libs/webhooks/src/core/webhook-attempt.js';
import { type DeliveryJob, DeliveryScheduler } from '../../libs/webhooks/src/send/queue/delivery-scheduler.js';

const job = (id: string, endpoint = 'https://a.example'): DeliveryJob => ({ attempt: { id } as WebhookAttempt, endpoint });

/** A job runner the test drives by hand: each job's request and recording end when the test says. */
function manualRunner() {
  const started: string[] = [];
  const controls = new Map<string, { requestDone(): void; finish(): void }>();
  const run = (j: DeliveryJob, requestDone: () => void) =>
    new Promise<void>((resolve) => {
      started.push(j.attempt.id);
      controls.set(j.attempt.id, { requestDone, finish: resolve });
    });
  return { started, controls, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('DeliveryScheduler: slots count requests in flight', () => {
  it('a job that reports its request done frees its slot for the next one, stays held, and keeps the scheduler busy until it ends', async () => {
    const runner = manualRunner();
    const scheduler = new DeliveryScheduler({ concurrency: 1, perEndpointConcurrency: 1, maxQueued: 10, maxQueuedPerEndpoint: 10 }, runner.run);
    for (const id of ['a', 'b', 'c']) expect(scheduler.enqueue(job(id))).toBe(true);
    expect(runner.started).toEqual(['a']);

    runner.controls.get('a')!.requestDone();
    // b's request starts while a's outcome is being recorded; a is still held (not claimable twice).
    expect(runner.started).toEqual(['a', 'b']);
    expect(scheduler.has('a')).toBe(true);
    expect(scheduler.active).toBe(1);

    // Recording is bounded like requests: with a recording and b in flight, c waits.
    runner.controls.get('b')!.requestDone();
    expect(runner.started).toEqual(['a', 'b']);

    let idle = false;
    void scheduler.whenIdle().then(() => (idle = true));
    runner.controls.get('a')!.finish();
    await turn();
    expect(scheduler.has('a')).toBe(false);
    expect(runner.started).toEqual(['a', 'b', 'c']);

    runner.controls.get('b')!.finish();
    runner.controls.get('c')!.finish();
    await turn();
    expect(idle).toBe(true);
    expect(scheduler.idle).toBe(true);
  });

  it('a job that never reports its request done holds its slot until it ends (a dead endpoint keeps only its own slots)', async () => {
    const runner = manualRunner();
    const scheduler = new DeliveryScheduler({ concurrency: 2, perEndpointConcurrency: 1, maxQueued: 10, maxQueuedPerEndpoint: 10 }, runner.run);
    scheduler.enqueue(job('dead-1', 'https://dead.example'));
    scheduler.enqueue(job('dead-2', 'https://dead.example'));
    scheduler.enqueue(job('live-1', 'https://live.example'));
    expect(runner.started).toEqual(['dead-1', 'live-1']);
    runner.controls.get('live-1')!.requestDone();
    runner.controls.get('live-1')!.finish();
    await turn();
    expect(runner.started).toEqual(['dead-1', 'live-1']);
    runner.controls.get('dead-1')!.finish();
    await turn();
    expect(runner.started).toEqual(['dead-1', 'live-1', 'dead-2']);
    runner.controls.get('dead-2')!.finish();
    await turn();
    expect(scheduler.idle).toBe(true);
  });
});
