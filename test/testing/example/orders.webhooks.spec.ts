// orders.webhooks.spec.ts
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher } from 'nest-webhooks';
import { createWebhooksTestingModule, type WebhooksTestingModule } from 'nest-webhooks/testing';
import { Orders, OrdersModule } from './orders.module.js';
import '../../setup.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('order webhooks', () => {
  let testing: WebhooksTestingModule;
  afterEach(() => testing.close());

  it('sends order.placed, signed', async () => {
    testing = await createWebhooksTestingModule({ imports: [OrdersModule] });
    const { app, receiver } = testing;

    app.get(Orders).place({ id: 'o-1', total: 42 });
    await receiver.waitFor(1);

    expect(receiver).toHaveReceived('order.placed', { data: { id: 'o-1' } });
    expect(receiver).toHaveReceivedTimes('order.placed', 1);
  });

  it('retries on the schedule until the receiver answers 200', async () => {
    testing = await createWebhooksTestingModule({
      imports: [OrdersModule],
      webhooks: { delivery: { retrySchedule: [5 * MINUTE, 30 * MINUTE, 2 * HOUR] } },
    });
    const { app, receiver, clock } = testing;
    receiver.respondWith(500, 500, 200); // fails twice, then succeeds

    const [attempt] = await app.get(WebhookPublisher).publish('order.placed', { id: 'o-2', total: 1 });
    await clock.runDue(); // the first try, now
    await clock.advance(5 * MINUTE); // the second, 5 minutes later
    await clock.advance(3 * HOUR); // the third, 30 minutes after that; nothing after a success

    expect(receiver.webhooks.map((webhook) => webhook.status)).toEqual([500, 500, 200]);
    expect(await app.get(WebhookDeliveryManager).getAttempt(attempt!.id)).toMatchObject({ status: 'successful', tries: 3 });
  });
});
