import { EventEmitter2 } from '@nestjs/event-emitter';
import type { INestApplication } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookEvents, WebhookPublisher, WebhookSubscriptionManager, type WebhookAttemptTriedEvent } from 'nest-webhooks';
import { WebhookClock, WebhookEventPublisher } from 'nest-webhooks/extensions';
import { FakeClock } from '../support/fake-clock.js';
import { sequence, TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

describe('webhooks.attempt.tried: one event per try, on the EventEmitter and to in-process observers', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('says what each try got and what follows: retrying, then successful; then failed when retries run out', async () => {
    receiver = await TestReceiver.start({ responder: sequence(503, 200, 500, 500) });
    const clock = new FakeClock();
    app = await createWebhooksApp({ webhooks: { delivery: { retrySchedule: [60_000] } }, overrides: [{ provide: WebhookClock, useValue: clock }] });
    const onEmitter: WebhookAttemptTriedEvent[] = [];
    const observed: string[] = [];
    app.get(EventEmitter2).on(WebhookEvents.AttemptTried, (event: WebhookAttemptTriedEvent) => onEmitter.push(event));
    const stop = app.get(WebhookEventPublisher).observe((name) => observed.push(name));
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['order.*'] });
    const publisher = app.get(WebhookPublisher);
    const delivery = app.get(WebhookDeliveryManager);

    for (const id of ['1', '2']) {
      await publisher.publish('order.created', { id });
      await delivery.waitForPendingDeliveries();
      clock.advance(120_000); // past the retry delay and its jitter
      await delivery.processDueAttempts();
      await delivery.waitForPendingDeliveries();
    }

    expect(receiver.requests).toHaveLength(4);
    expect(onEmitter.map((e) => [e.tried.number, e.tried.statusCode, e.outcome])).toEqual([
      [1, 503, 'retrying'],
      [2, 200, 'successful'],
      [1, 500, 'retrying'],
      [2, 500, 'failed'],
    ]);
    for (const [index, event] of onEmitter.entries()) {
      expect(event.subscription.id).toBe(subscription.id);
      expect(event.attempt.tries).toBe(event.tried.number);
      expect(event.attempt.webhookId).toBe(receiver.requests[index]!.headers['webhook-id']);
      expect(event.attempt.status).toBe(event.outcome === 'retrying' ? 'pending' : event.outcome);
    }
    // Observers hear every library event, in the order emitted: each try, then each resolution.
    expect(observed.filter((name) => name.startsWith('webhooks.attempt.'))).toEqual([
      WebhookEvents.AttemptTried,
      WebhookEvents.AttemptTried,
      WebhookEvents.AttemptSucceeded,
      WebhookEvents.AttemptTried,
      WebhookEvents.AttemptTried,
      WebhookEvents.AttemptFailed,
    ]);
    stop();
    await publisher.publish('order.created', { id: '3' });
    await delivery.waitForPendingDeliveries();
    expect(observed.filter((name) => name === WebhookEvents.AttemptTried)).toHaveLength(4);
    expect(onEmitter).toHaveLength(5);
  });
});
