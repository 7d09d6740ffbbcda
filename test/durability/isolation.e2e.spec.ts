import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * Isolation between endpoints: one endpoint that accepts the connection and never answers, one healthy
 * endpoint, 1,000 events to each, over real HTTPS on loopback (no fakes at all here).
 *
 * - The healthy endpoint's 1,000 deliveries are timed alone, then again while the dead endpoint is loaded with
 *   1,000 events of its own, in the same run; mixed must stay within 2 × alone (the ratio the issue asks for;
 *   the absolute figures are printed, not asserted).
 * - Structurally: the dead receiver never has more than `perEndpointConcurrency` requests open, and with a
 *   low `maxQueuedAttempts` the scheduler never holds more waiting attempts than that; the rest stay pending
 *   in the store, are claimed later, and every healthy delivery still arrives.
 */

const EVENTS = 1000;
const PER_ENDPOINT = 8;
const DELIVERY = { timeoutMs: 1000, concurrency: 64, perEndpointConcurrency: PER_ENDPOINT, shutdownTimeoutMs: 200 } as const;

/** A receiver that accepts every request and never answers; it counts the requests open at once. */
async function deadReceiver() {
  const state = { open: 0, maxOpen: 0 };
  const receiver = await TestReceiver.start({
    responder: (_request, res) => {
      state.open++;
      state.maxOpen = Math.max(state.maxOpen, state.open);
      res.on('close', () => state.open--);
    },
  });
  return Object.assign(state, { receiver });
}

async function until(check: () => boolean, what: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('isolation: a dead endpoint does not slow a healthy one', () => {
  let app: INestApplication | undefined;
  const receivers: TestReceiver[] = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    for (const receiver of receivers.splice(0)) await receiver.close();
  });

  async function setUp(delivery: WebhooksModuleOptions['delivery']) {
    const dead = await deadReceiver();
    const healthy = await TestReceiver.start();
    receivers.push(dead.receiver, healthy);
    app = await createWebhooksApp({ webhooks: { delivery } });
    const subscriptions = app.get(WebhookSubscriptionManager);
    const deadSub = (await subscriptions.create({ url: `${dead.receiver.url}/dead`, events: ['dead.*'] })).subscription;
    const healthySub = (await subscriptions.create({ url: `${healthy.url}/healthy`, events: ['healthy.*'] })).subscription;
    const publisher = app.get(WebhookPublisher);
    const delivery_ = app.get(WebhookDeliveryManager);
    return { dead, healthy, deadSub, healthySub, publisher, delivery: delivery_ };
  }

  it('the healthy endpoint delivers 1,000 events with a loaded dead endpoint within 2× its time alone; the dead one holds at most its own slots', async () => {
    const { dead, healthy, publisher } = await setUp(DELIVERY);

    /** Publishes `EVENTS` healthy events and returns the ms until the receiver got all of them (one round). */
    async function timeHealthy(label: string): Promise<number> {
      const target = healthy.requests.length + EVENTS;
      const started = performance.now();
      for (let i = 0; i < EVENTS; i++) await publisher.publish('healthy.ping', { label, i });
      await healthy.waitForRequests(target, 60_000);
      return performance.now() - started;
    }

    // Warm-up (JIT, TLS sessions, keep-alive connections), not measured.
    const WARMUP = 300;
    for (let i = 0; i < WARMUP; i++) await publisher.publish('healthy.ping', { warmup: i });
    await healthy.waitForRequests(WARMUP, 30_000);

    // Best of two rounds each, so a burst of load from outside this test does not decide the ratio.
    const aloneRounds = [await timeHealthy('alone-1'), await timeHealthy('alone-2')];
    const alone = Math.min(...aloneRounds);

    for (let i = 0; i < EVENTS; i++) await publisher.publish('dead.ping', { i });
    // Measure once the dead endpoint is saturated and churning: its first 8 tries timed out and 8 more are open.
    await until(
      () => dead.receiver.requests.length >= 2 * PER_ENDPOINT && dead.open === PER_ENDPOINT,
      () => `the dead endpoint to hold its slots (${dead.open} open, ${dead.receiver.requests.length} received)`,
    );
    const mixedRounds = [await timeHealthy('mixed-1'), await timeHealthy('mixed-2')];
    const mixed = Math.min(...mixedRounds);

    console.info(
      `isolation: healthy 1,000 deliveries alone ${aloneRounds.map((t) => t.toFixed(0)).join('/')} ms, ` +
        `with a loaded dead endpoint ${mixedRounds.map((t) => t.toFixed(0)).join('/')} ms ` +
        `(ratio ${(mixed / alone).toFixed(2)}); dead endpoint: ${dead.receiver.requests.length} requests received, at most ${dead.maxOpen} open at once`,
    );
    expect(healthy.requests).toHaveLength(WARMUP + 4 * EVENTS);
    expect(mixed).toBeLessThanOrEqual(2 * alone);
    // The dead endpoint was loaded up to its own limit, and never beyond it.
    expect(dead.maxOpen).toBe(PER_ENDPOINT);
  }, 120_000);

  it('with maxQueuedAttempts 100 the scheduler never holds more than 100 waiting attempts; the rest stay pending in the store and every healthy delivery still arrives', async () => {
    const MAX_QUEUED = 100;
    const { dead, healthy, deadSub, healthySub, publisher, delivery } = await setUp({ ...DELIVERY, maxQueuedAttempts: MAX_QUEUED, pollIntervalMs: 200 });
    let maxQueued = 0;
    let deadRequestsWhenHealthyDone = -1;
    const sample = () => {
      maxQueued = Math.max(maxQueued, delivery.stats.queued);
    };
    const sampler = setInterval(sample, 1);
    try {
      // The dead endpoint's backlog first, then the healthy traffic.
      for (let i = 0; i < EVENTS; i++) {
        await publisher.publish('dead.ping', { i });
        sample();
      }
      for (let i = 0; i < EVENTS; i++) {
        await publisher.publish('healthy.ping', { i });
        sample();
      }

      // Everything was committed, but only what fits is held in memory; the rest waits in the store.
      const pendingInStore =
        (await delivery.listAttempts(deadSub.id, { status: 'pending' })).length + (await delivery.listAttempts(healthySub.id, { status: 'pending' })).length;
      const held = delivery.stats.queued + delivery.stats.active;
      expect(held).toBeLessThanOrEqual(MAX_QUEUED + DELIVERY.concurrency);
      expect(pendingInStore).toBeGreaterThan(held);
      expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUED);

      // Liveness bound only (the figures are printed): healthy deliveries take about a second here; what they
      // must not do is wait until the dead endpoint's backlog (1,000 tries of 1 s each, 8 at a time) was worked off.
      await until(
        () => healthy.requests.length >= EVENTS,
        () =>
          `all ${EVENTS} healthy deliveries: got ${healthy.requests.length}, while the dead endpoint got ${dead.receiver.requests.length} ` +
          `requests; stats ${JSON.stringify(delivery.stats)}`,
        30_000,
      );
      deadRequestsWhenHealthyDone = dead.receiver.requests.length;
    } finally {
      clearInterval(sampler);
    }
    console.info(
      `bounded queue: at most ${maxQueued} attempts waiting in memory (limit ${MAX_QUEUED}); healthy received ${healthy.requests.length}; ` +
        `dead received ${dead.receiver.requests.length}, at most ${dead.maxOpen} open at once`,
    );
    expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUED);
    expect(maxQueued).toBeGreaterThan(0);
    expect(dead.maxOpen).toBeLessThanOrEqual(PER_ENDPOINT);
    expect(new Set(healthy.requests.map((r) => JSON.parse(r.body).data.i)).size).toBe(EVENTS);
    // Fairness across claims: the healthy endpoint was not served only after the dead backlog had been tried.
    expect(deadRequestsWhenHealthyDone).toBeLessThan(EVENTS);
  }, 120_000);
});
