import type { INestApplication } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type WebhookSubscription, WebhookSubscriptionManager } from 'nest-webhooks';
import { createWebhooksApp } from '../support/webhooks-app.js';

/** Tries every way a caller could change a subscription it was given. */
function tamperWith(subscription: WebhookSubscription): void {
  const writable = subscription as { -readonly [K in keyof WebhookSubscription]: WebhookSubscription[K] };
  expect(() => (writable.active = false)).toThrow(TypeError);
  expect(() => (writable.url = 'https://attacker.example')).toThrow(TypeError);
  expect(() => (writable.events as string[]).push('**')).toThrow(TypeError);
  expect(() => ((writable.metadata as Record<string, string>).team = 'x')).toThrow(TypeError);
  // Dates cannot be frozen: each caller gets its own.
  subscription.createdAt.setTime(0);
}

describe('the subscription manager hands out frozen copies', () => {
  let app: INestApplication;
  let manager: WebhookSubscriptionManager;

  beforeEach(async () => {
    app = await createWebhooksApp({ webhooks: { subscriptions: [{ id: 'static-1', url: 'https://example.com/static', secret: `whsec_${Buffer.alloc(32, 1).toString('base64')}` }] } });
    manager = app.get(WebhookSubscriptionManager);
  });

  afterEach(() => app.close());

  it('create, get, list, update and the registry queries return copies; changing one changes nothing', async () => {
    const { subscription } = await manager.create({ url: 'https://example.com/hooks', events: ['order.*'], metadata: { team: 'billing' } });
    const createdAt = subscription.createdAt.getTime();
    tamperWith(subscription);
    tamperWith((await manager.get(subscription.id))!);
    for (const listed of await manager.list()) tamperWith(listed);
    tamperWith(await manager.update(subscription.id, { description: 'feed' }));
    for (const active of manager.activeSubscriptions('order.created', {})) tamperWith(active);

    const [registered] = manager.activeSubscriptions('order.created', {}).filter((s) => s.id === subscription.id);
    expect(registered).toMatchObject({ active: true, url: 'https://example.com/hooks', events: ['order.*'], metadata: { team: 'billing' } });
    expect(registered!.createdAt.getTime()).toBe(createdAt);
    const statik = (await manager.get('static-1'))!;
    expect(statik).toMatchObject({ active: true, url: 'https://example.com/static', events: ['**'] });
    expect(manager.activeSubscriptions('order.created', {}).map((s) => s.id)).toEqual(['static-1', subscription.id]);
  });
});
