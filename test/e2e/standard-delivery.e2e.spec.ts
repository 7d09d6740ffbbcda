import { EventEmitter2 } from '@nestjs/event-emitter';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPayload } from 'nest-webhooks';
import { createWebhooksTestingModule, type WebhooksTestingModule } from 'nest-webhooks/testing';
import { testTls } from '../support/tls.js';
import '../setup.js';

@WebhookPayload('e2e.Order')
class Order {
  constructor(
    readonly id: string,
    readonly item: string,
  ) {}
}

describe('end-to-end: emit → signed HTTPS delivery → recorded attempt', () => {
  let testing: WebhooksTestingModule | undefined;

  afterEach(async () => {
    await testing?.close();
  });

  it('delivers order.created over HTTPS with a Standard Webhooks signature both verifiers accept', async () => {
    testing = await createWebhooksTestingModule({
      subscribe: ['order.created'],
      receiver: { https: { cert: testTls.cert, key: testTls.key } },
      webhooks: {
        destinations: { tls: { ca: testTls.ca } },
        // WEBHOOKS_TEST_TRANSPORT=axios|undici|undici-thread runs it on one transport or another, as the other suites.
        delivery: process.env.WEBHOOKS_TEST_TRANSPORT ? { transport: process.env.WEBHOOKS_TEST_TRANSPORT as 'undici' } : {},
      },
    });
    const { app, receiver } = testing;

    app.get(EventEmitter2).emit('order.created', new Order('o-1', 'book'));
    app.get(EventEmitter2).emit('order.shipped', new Order('o-1', 'book'));
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    expect(receiver).toHaveReceivedTimes('order.created', 1);
    expect(receiver).toHaveReceived('order.created', { data: { id: 'o-1', item: 'book' } });
    expect(receiver.webhooks).toHaveLength(1);
    const request = receiver.webhooks[0]!;
    expect(request).toMatchObject({ method: 'POST', path: '/webhooks', verified: true });
    // Beside the receiver's own check, both verifiers applications use accept the request as it arrived.
    expect(new StandardWebhook(receiver.secret).verify(request.body, request.headers)).toEqual({
      type: 'order.created',
      timestamp: expect.any(String),
      data: { id: 'o-1', item: 'book' },
    });
    expect(() => new SvixWebhook(receiver.secret).verify(request.body, request.headers)).not.toThrow();

    const [attempt] = await app.get(WebhookDeliveryManager).listAttempts('WebhookTestReceiver');
    expect(attempt).toMatchObject({ status: 'successful', message: '200 OK', webhookId: request.id });
  });
});
