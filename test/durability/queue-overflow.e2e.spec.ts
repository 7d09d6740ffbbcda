import type { INestApplication } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager, type WebhooksModuleOptions } from '@app/webhooks';
import { TestReceiver } from '../support/receiver.js';
import { sqliteDataSourceOptions, tempSqliteFile, TEST_SECRET_KEY } from '../support/sqlite.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/**
 * A burst longer than the in-process queue: what does not fit is handed back to the store. It must come back
 * as soon as there is room (here the poll interval is ten minutes, so nothing else would bring it back within
 * the test), and in the order it was published: an endpoint's new attempts must not overtake the older ones
 * waiting in the store.
 */

const EVENTS = 60;
/** One request at a time and a line of 4 (`maxQueuedAttempts` 8: a quarter per endpoint, at least 4 × 1). */
const DELIVERY = { concurrency: 1, perEndpointConcurrency: 1, maxQueuedAttempts: 8, pollIntervalMs: 600_000 } as const;

/** A receiver that holds every request until told to answer it (`answer(n)`: the oldest n), or all of them from `open()` on. */
async function heldReceiver() {
  const held: Array<() => void> = [];
  let opened = false;
  const receiver = await TestReceiver.start({
    responder: (_request, res) => {
      const answer = () => void res.writeHead(200).end();
      if (opened) answer();
      else held.push(answer);
    },
  });
  return {
    receiver,
    answer: (count: number) => held.splice(0, count).forEach((answer) => answer()),
    open: () => {
      opened = true;
      held.splice(0).forEach((answer) => answer());
    },
  };
}

describe('queue overflow: attempts handed back to the store', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  const files: Array<{ cleanup: () => void }> = [];

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await receiver?.close();
    receiver = undefined;
    for (const file of files.splice(0)) file.cleanup();
  });

  const stores: Array<[string, () => { webhooks: WebhooksModuleOptions; before: unknown[] }]> = [
    ['memory store', () => ({ webhooks: { delivery: DELIVERY }, before: [] })],
    [
      'SQLite store',
      () => {
        const file = tempSqliteFile();
        files.push(file);
        return {
          webhooks: { storage: { type: 'typeorm' }, secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] }, delivery: DELIVERY },
          before: [TypeOrmModule.forRoot(sqliteDataSourceOptions(file.path))],
        };
      },
    ],
  ];

  for (const [name, setUp] of stores) {
    it(`${name}: a burst of ${EVENTS} through a line of 4 is delivered without waiting for a poll, and no later event overtakes it`, async () => {
      const held = await heldReceiver();
      receiver = held.receiver;
      app = await createWebhooksApp(setUp());
      await app.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['burst.*'] });
      const publisher = app.get(WebhookPublisher);
      const delivery = app.get(WebhookDeliveryManager);

      for (let i = 0; i < EVENTS; i++) await publisher.publish('burst.event', { i });
      // The first request is held at the receiver; at most the line waits in memory, the rest is in the store.
      await receiver.waitForRequests(1);
      expect(delivery.stats.active + delivery.stats.queued).toBeLessThanOrEqual(1 + 4);

      // One answer: the next request starts and the line has room for one. A new event now must still go behind
      // the older ones waiting in the store.
      held.answer(1);
      await receiver.waitForRequests(2);
      await publisher.publish('burst.event', { i: EVENTS });

      held.open();
      await receiver.waitForRequests(EVENTS + 1, 20_000);
      await delivery.waitForPendingDeliveries(20_000);

      const order = receiver.requests.map((request) => (JSON.parse(request.body) as { data: { i: number } }).data.i);
      expect(order).toEqual(Array.from({ length: EVENTS + 1 }, (_, i) => i));
      expect(new Set(receiver.requests.map((request) => request.headers['webhook-id'])).size).toBe(EVENTS + 1);
    });
  }
});
