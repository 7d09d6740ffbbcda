import { setTimeout as realSetTimeout } from 'node:timers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookClock } from '../../libs/webhooks/src/core/clock.js';
import { SubscriptionHealth } from '../../libs/webhooks/src/send/subscription-health.js';
import { MemoryWebhookStore } from '../../libs/webhooks/src/storage/memory/memory-webhook.store.js';
import type { SubscriptionRegistry } from '../../libs/webhooks/src/subscriptions/subscription-registry.js';
import type { WebhookSubscriptionManager } from '../../libs/webhooks/src/subscriptions/webhook-subscription.manager.js';
import type { ResolvedWebhooksOptions } from '../../libs/webhooks/src/core/webhooks.options.js';
import { pendingAttempt } from '../support/attempts.js';

const NOW = new Date('2026-12-05T00:00:00.000Z');
const options = { limits: { attemptLimit: 50, disableAfterFailingForMs: 0 } } as ResolvedWebhooksOptions;

/** Rejects when `promise` has not settled after `ms` of real time (fake timers do not stop this one). */
function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<never>((_, reject) => realSetTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms))]);
}

function setUp() {
  const store = new MemoryWebhookStore();
  const deactivated: string[] = [];
  // The collaborators the history rules call: the subscription's own limit (none here), and deactivation when every
  // stored attempt failed.
  const subscriptions = { get: async () => null, deactivate: async (id: string) => void deactivated.push(id) } as unknown as WebhookSubscriptionManager;
  const registry = { active: () => undefined } as unknown as SubscriptionRegistry;
  return { store, deactivated, health: new SubscriptionHealth(options, store, subscriptions, registry, new WebhookClock()) };
}

describe('SubscriptionHealth: history checks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("covers every resolution of a burst with checks that start after it, then is idle", async () => {
    const { store, health } = setUp();
    const resolved = Array.from({ length: 120 }, () => pendingAttempt(NOW, { status: 'successful', nextAttemptAt: null }));
    await store.insertAttempts(resolved.slice(0, 60));
    for (const attempt of resolved.slice(0, 60)) health.afterResolved(attempt);
    expect(health.busy).toBe(true);
    // More arrive while the first check is queued or running: a later check covers them.
    await store.insertAttempts(resolved.slice(60));
    for (const attempt of resolved.slice(60)) health.afterResolved(attempt);
    await within(health.whenIdle(), 5_000);
    expect(health.busy).toBe(false);
    expect(await store.countAttempts('sub_1')).toEqual({ total: 50, pending: 0, failed: 0, successful: 50 });
  });

  it('deactivates when every stored attempt failed, once the history is full', async () => {
    const { store, health, deactivated } = setUp();
    const failed = Array.from({ length: 50 }, () => pendingAttempt(NOW, { status: 'failed', nextAttemptAt: null }));
    await store.insertAttempts(failed);
    health.afterResolved(failed[49]!);
    await within(health.whenIdle(), 5_000);
    expect(deactivated).toEqual(['sub_1']);
  });

  it("runs its checks, and whenIdle() resolves, while the application's tests use fake timers", async () => {
    const { store, health } = setUp();
    vi.useFakeTimers();
    const resolved = Array.from({ length: 55 }, () => pendingAttempt(NOW, { status: 'successful', nextAttemptAt: null }));
    await store.insertAttempts(resolved);
    health.afterResolved(resolved[54]!);
    await within(health.whenIdle(), 5_000);
    expect((await store.countAttempts('sub_1')).total).toBe(50);
  });
});
