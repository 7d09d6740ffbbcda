import { type INestApplication, Logger } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { TestReceiver } from '../support/receiver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/** Without an application authorizer, the library cannot know who may see what: owned subscriptions get nothing. */
describe('the default authorizer', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    vi.restoreAllMocks();
    await app?.close();
    await receiver?.close();
  });

  async function emitToOwnedAndUnowned(trustOwners?: boolean) {
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ webhooks: trustOwners === undefined ? {} : { authorization: { trustOwners } } });
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription: owned } = await subscriptions.create({ url: `${receiver.url}/owned`, ownerId: 'alice' });
    const { subscription: unowned } = await subscriptions.create({ url: `${receiver.url}/unowned` });
    for (let i = 0; i < 3; i++) app.get(EventEmitter2).emit('order.created', { i });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const count = (path: string) => receiver!.requests.filter((r) => r.path === path).length;
    return { owned: count('/owned'), unowned: count('/unowned'), preconditionFailures: (await subscriptions.get(owned.id))!.preconditionFailures, active: (await subscriptions.get(unowned.id))!.active };
  }

  it('sends nothing to a subscription with an owner, says so once, and counts no failure', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    expect(await emitToOwnedAndUnowned()).toEqual({ owned: 0, unowned: 3, preconditionFailures: 0, active: true });
    const told = warn.mock.calls.filter(([message]) => String(message).includes('provides no WebhookAuthorizer'));
    expect(told).toHaveLength(1);
  });

  it('with authorization.trustOwners, owners receive what they subscribed to', async () => {
    expect(await emitToOwnedAndUnowned(true)).toEqual({ owned: 3, unowned: 3, preconditionFailures: 0, active: true });
  });
});
