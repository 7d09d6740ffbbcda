import { EventEmitter2 } from '@nestjs/event-emitter';
import type { INestApplication } from '@nestjs/common';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPayload, WebhookSubscriptionManager } from 'nest-webhooks';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

@WebhookPayload('e2e.Order')
class Order {
  constructor(
    readonly id: string,
    readonly item: string,
  ) {}
}

describe('end-to-end: emit → signed HTTPS delivery → recorded attempt', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
  });

  it('delivers order.created over HTTPS with a Standard Webhooks signature both verifiers accept', async () => {
    receiver = await TestReceiver.start();
    app = await createWebhooksApp();
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription, secret } = await subscriptions.create({ url: `${receiver.url}/hooks`, events: ['order.created'] });
    expect(secret).toMatch(/^whsec_/);

    app.get(EventEmitter2).emit('order.created', new Order('o-1', 'book'));
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    expect(receiver.requests).toHaveLength(1);
    const request = receiver.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks');
    const verified = new StandardWebhook(secret).verify(request.body, request.headers) as { type: string; data: unknown };
    expect(verified.type).toBe('order.created');
    expect(verified.data).toEqual({ id: 'o-1', item: 'book' });
    expect(() => new SvixWebhook(secret).verify(request.body, request.headers)).not.toThrow();

    const [attempt] = await app.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', webhookId: request.headers['webhook-id'] });
  });
});
