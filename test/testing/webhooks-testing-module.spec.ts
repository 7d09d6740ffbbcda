import { Injectable, Module } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { createWebhooksTestingModule, type WebhooksTestingModule, type WebhooksTestingModuleOptions } from 'nest-webhooks/testing';
import { testTls } from '../support/tls.js';
import '../setup.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

@Injectable()
class Orders {
  constructor(private readonly events: EventEmitter2) {}

  place(order: { id: string; total: number }): void {
    this.events.emit('order.placed', order);
  }
}

@Module({ providers: [Orders], exports: [Orders] })
class OrdersModule {}

describe('createWebhooksTestingModule', () => {
  let testing: WebhooksTestingModule | undefined;
  afterEach(async () => {
    await testing?.close();
    testing = undefined;
  });

  async function start(options: WebhooksTestingModuleOptions = {}): Promise<WebhooksTestingModule> {
    testing = await createWebhooksTestingModule({ imports: [OrdersModule], logger: false, ...options });
    return testing;
  }

  it("an application's event reaches the receiver, signed with its secret", async () => {
    const { app, receiver } = await start();
    app.get(Orders).place({ id: 'o-1', total: 42 });
    await receiver.waitFor(1);
    expect(receiver).toHaveReceived('order.placed', { data: { id: 'o-1', total: 42 } });
    expect(receiver).toHaveReceivedTimes('order.placed', 1);
    expect(receiver.webhooks[0]).toMatchObject({ path: '/webhooks', verified: true });
    const subscriptions = await app.get(WebhookSubscriptionManager).list();
    expect(subscriptions.map((s) => [s.id, s.url, s.events])).toEqual([['WebhookTestReceiver', `${receiver.url}/webhooks`, ['**']]]);
  });

  it('a retry schedule of hours runs on the test clock, each try at its time, every one verified', async () => {
    const { app, receiver, clock } = await start({ webhooks: { delivery: { retrySchedule: [5 * MINUTE, 30 * MINUTE, 2 * HOUR] } } });
    const publishedAt = clock.now().getTime();
    receiver.respondWith(500, 500, 200);
    const [attempt] = await app.get(WebhookPublisher).publish('order.placed', { id: 'o-2', total: 1 });
    await receiver.waitFor(1);
    await clock.runDue();

    await clock.advance(5 * MINUTE - 1);
    expect(receiver.webhooks).toHaveLength(1);
    expect(clock.nextDueAt).toEqual(new Date(publishedAt + 5 * MINUTE));
    await clock.advance(1);
    expect(receiver.webhooks).toHaveLength(2);
    // 30 minutes after the second try, then success: the 2 h retry never happens.
    await clock.advance(3 * HOUR);
    expect(receiver.webhooks.map((w) => w.status)).toEqual([500, 500, 200]);
    expect(receiver).toHaveReceivedTimes('order.placed', 3);
    expect(clock.nextDueAt).toBeNull();
    expect(clock.now().getTime()).toBe(publishedAt + 5 * MINUTE + 3 * HOUR);

    const stored = await app.get(WebhookDeliveryManager).getAttempt(attempt!.id);
    expect(stored).toMatchObject({ status: 'successful', tries: 3 });
    expect(stored!.history.map((t) => t.startedAt.getTime() - publishedAt)).toEqual([0, 5 * MINUTE, 35 * MINUTE]);
    expect(receiver.webhooks.map((w) => w.timestamp!.getTime() - Math.floor(publishedAt / 1000) * 1000)).toEqual([0, 5 * MINUTE, 35 * MINUTE]);
  });

  it('a receiver that keeps failing: every try of the schedule within one advance, then the attempt fails', async () => {
    const { app, receiver, clock } = await start({ webhooks: { delivery: { retrySchedule: [MINUTE, 2 * MINUTE, 4 * MINUTE] } } });
    receiver.respondWith(500);
    const [attempt] = await app.get(WebhookPublisher).publish('order.placed', { id: 'o-3', total: 1 });
    await clock.advance(HOUR);
    expect(receiver).toHaveReceivedTimes('order.placed', 4);
    expect(await app.get(WebhookDeliveryManager).getAttempt(attempt!.id)).toMatchObject({ status: 'failed', tries: 4 });
  });

  it('HTTPS with a certificate of the test CA, a subscription of its own, and an HTTP application', async () => {
    const { app, receiver } = await createWebhooksTestingModule({
      imports: [OrdersModule],
      logger: false,
      http: true,
      receiver: { https: { cert: testTls.cert, key: testTls.key } },
      subscribe: false,
      webhooks: ({ url, secret }) => ({
        subscriptions: [{ id: 'orders', url: `${url}/orders`, events: ['order.*'], secret }],
        destinations: { tls: { ca: testTls.ca } },
      }),
    }).then((started) => (testing = started));
    expect(receiver.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(app.getHttpServer()).toBeDefined();
    app.get(Orders).place({ id: 'o-4', total: 3 });
    app.get(EventEmitter2).emit('invoice.sent', { id: 'i-1' });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.webhooks.map((w) => [w.path, w.type, w.verified])).toEqual([['/orders', 'order.placed', true]]);
  });

  it('closes what did start when the application fails to start, and says why', async () => {
    const hooks: string[] = [];
    @Injectable()
    class Tracker {
      onModuleInit() {
        hooks.push('init');
      }
      onModuleDestroy() {
        hooks.push('destroy');
      }
    }
    @Injectable()
    class Broken {
      onApplicationBootstrap() {
        throw new Error('bootstrap broke');
      }
    }
    await expect(createWebhooksTestingModule({ providers: [Tracker, Broken], logger: false })).rejects.toThrow('bootstrap broke');
    expect(hooks).toEqual(['init', 'destroy']);
  });
});
