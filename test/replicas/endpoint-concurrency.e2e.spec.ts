import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { createTestDatabase, DATABASES, type TestDatabase, transactionalModules } from '../support/databases.js';
import { eventually } from '../support/example-app.js';
import { TestReceiver } from '../support/receiver.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';
import { createWebhooksApp } from '../support/webhooks-app.js';
import { SubscriptionRegistry } from '../../libs/webhooks/src/subscriptions/subscription-registry.js';

const PER_ENDPOINT = 2;
const EVENTS = 60;

/** A receiver that answers after `delayMs` and keeps the most requests it had in flight at once. */
async function countingReceiver(delayMs: number): Promise<{ receiver: TestReceiver; most: () => number }> {
  let inFlight = 0;
  let most = 0;
  const receiver = await TestReceiver.start({
    responder: (_request, res) => {
      most = Math.max(most, ++inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end();
      }, delayMs);
    },
  });
  return { receiver, most: () => most };
}

/** Three workers on one database publish to one receiver: together they keep to `perEndpointConcurrency`. */
describe.each(DATABASES)('per-endpoint concurrency across processes (%s)', (kind) => {
  let database: TestDatabase;
  let receiver: TestReceiver;
  const apps: INestApplication[] = [];

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await receiver.close();
    await database.drop();
  });

  it(`three workers never have more than ${PER_ENDPOINT} requests in flight to one endpoint, and deliver every event once`, async () => {
    database = await createTestDatabase(kind);
    const counting = await countingReceiver(40);
    receiver = counting.receiver;
    for (let i = 0; i < 3; i++) {
      apps.push(
        await createWebhooksApp({
          before: transactionalModules(database),
          webhooks: {
            storage: { type: 'typeorm' },
            secrets: { encryptionKeys: [{ id: 'k1', key: TEST_SECRET_KEY }] },
            limits: { attemptLimit: 1000 },
            delivery: { perEndpointConcurrency: PER_ENDPOINT, concurrency: 16, pollIntervalMs: 100, leaseMs: 20_000 },
          },
        }),
      );
    }
    const { secret } = await apps[0]!.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/one`, events: ['order.*'] });
    // Every worker publishes a third of the events, in bursts, so each holds attempts for the endpoint at once.
    for (let i = 0; i < EVENTS; i++) apps[i % 3]!.get(EventEmitter2).emit('order.created', { seq: i });
    await eventually(() => expect(new Set(receiver.requests.map((r) => JSON.parse(r.body).data.seq)).size).toBe(EVENTS), 20_000);
    for (const app of apps) await app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    console.info(`endpoint cap (${kind}): ${EVENTS} events through 3 workers, most in flight at once ${counting.most()} (cap ${PER_ENDPOINT}), requests ${receiver.requests.length}`);
    expect(counting.most()).toBeLessThanOrEqual(PER_ENDPOINT);
    expect(receiver.requests).toHaveLength(EVENTS);
    for (const request of receiver.requests) expect(() => new Webhook(secret).verify(request.body, request.headers)).not.toThrow();
  }, 40_000);

  it('a worker whose registry has not read a new subscription yet still keeps to the cap with the other workers', async () => {
    database = await createTestDatabase(kind);
    const counting = await countingReceiver(50);
    receiver = counting.receiver;
    const boot = async (worker: boolean) => {
      const app = await createWebhooksApp({
        database,
        webhooks: { delivery: { worker, perEndpointConcurrency: 1, concurrency: 16, maxQueuedAttempts: 8, pollIntervalMs: 60_000 } },
      });
      apps.push(app);
      return app;
    };
    const [w1, w2, api] = [await boot(true), await boot(true), await boot(false)];
    await api.get(WebhookSubscriptionManager).create({ url: `${receiver.url}/hook`, events: ['order.*'] });
    await w1.get(SubscriptionRegistry).refresh(); // w1 has read it; w2 has not
    for (let i = 0; i < 16; i++) api.get(EventEmitter2).emit('order.created', { seq: i });
    await api.get(WebhookDeliveryManager).waitForPendingDeliveries();
    // w2 keys what it claims by the subscription until its fence reads the change, then moves it to the endpoint.
    await Promise.all([w1.get(WebhookDeliveryManager).processDueAttempts(), w2.get(WebhookDeliveryManager).processDueAttempts()]);
    await eventually(() => expect(receiver.requests.length).toBeGreaterThanOrEqual(16), 20_000);
    expect(counting.most()).toBe(1);
  }, 40_000);
});
