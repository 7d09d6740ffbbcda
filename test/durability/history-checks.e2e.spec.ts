import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp, DATABASE_STORES } from '../support/webhooks-app.js';

describe.each(DATABASE_STORES)('history checks under a burst of resolutions (%s)', (kind) => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  let database: TestDatabase | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await receiver?.close();
    receiver = undefined;
    await database?.drop();
    database = undefined;
  });

  // Regression: a check queued while the previous one still ran used to leave a settled promise in the
  // running set, and waitForPendingDeliveries() then spun on it in microtasks, starving every timer.
  it('overlapping checks all finish: waitForPendingDeliveries returns, timers still run, history ends at the limit', async () => {
    receiver = await TestReceiver.start({
      responder: (_request, res) => void setTimeout(() => res.writeHead(200).end(), Math.random() * 5),
    });
    // A database store: its history checks span several event-loop turns, so they overlap under a burst.
    database = await createTestDatabase(kind);
    app = await createWebhooksApp({
      database,
      webhooks: {
        delivery: { concurrency: 32, perEndpointConcurrency: 32 },
        limits: { attemptLimit: 50 },
      },
    });
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url });
    for (let i = 0; i < 2000; i++) app.get(EventEmitter2).emit('burst.event', { i });
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries(20_000);
    const ticksAfterWait = ticks;
    await new Promise((resolve) => setTimeout(resolve, 30));
    clearInterval(ticker);
    expect(ticks).toBeGreaterThan(ticksAfterWait); // timers are not starved
    expect(receiver.requests).toHaveLength(2000);
    const attempts = await app.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempts).toHaveLength(50);
    expect(attempts.every((a) => a.status === 'successful')).toBe(true);
    // What is stored, read on a connection of the test's own: the pruning left exactly the limit behind.
    const [{ n }] = (await database.query('SELECT COUNT(*) AS n FROM webhook_attempt WHERE subscription_id = ?', [subscription.id])) as [{ n: unknown }];
    expect(Number(n)).toBe(50);
  });
});
