import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPayload, WebhookSubscriptionManager } from 'nest-webhooks';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

// Two applications' own classes, both named 'Order' for webhooks: the names belong to each class.
@WebhookPayload('Order')
class ShopOrder {
  constructor(readonly id: string) {}
}

@WebhookPayload('Order')
class WarehouseOrder {
  constructor(readonly id: string) {}
}

class Parcel {
  constructor(readonly id: string) {}
}

describe('two applications in one process', () => {
  const apps: INestApplication[] = [];
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await receiver?.close();
  });

  it('each resolves the payload type name "Order" to its own class', async () => {
    receiver = await TestReceiver.start();
    const shop = await createWebhooksApp();
    const warehouse = await createWebhooksApp();
    apps.push(shop, warehouse);
    await shop.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/shop`, events: ['order.*'], payloadType: 'Order' });
    await warehouse.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/warehouse`, events: ['order.*'], payloadType: 'Order' });

    shop.get(EventEmitter2).emit('order.created', new ShopOrder('s-1'));
    warehouse.get(EventEmitter2).emit('order.created', new WarehouseOrder('w-1'));
    await Promise.all([shop, warehouse].map((app) => app.get(WebhookDeliveryManager).waitForPendingDeliveries()));

    const received = receiver.requests.map((r) => `${r.path} ${(JSON.parse(r.body) as { data: { id: string } }).data.id}`).sort();
    expect(received).toEqual(['/shop s-1', '/warehouse w-1']);
  });

  it('a name one application registers in forRoot({ payloadTypes }) is not seen by the other', async () => {
    receiver = await TestReceiver.start();
    const shipping = await createWebhooksApp({ webhooks: { payloadTypes: { Parcel } } });
    const billing = await createWebhooksApp();
    apps.push(shipping, billing);

    await expect(shipping.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/p`, events: ['**'], payloadType: 'Parcel' })).resolves.toBeDefined();
    await expect(billing.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/p`, events: ['**'], payloadType: 'Parcel' })).rejects.toThrow(
      /"Parcel" is not a registered payload type/,
    );
  });
});
