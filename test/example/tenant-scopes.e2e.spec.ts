import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { DATABASES } from '../support/databases.js';
import { type RunningExampleApp, startExampleApp } from '../support/example-app.js';
import { TestReceiver } from '../support/receiver.js';

/** Owners in two tenants, one with a nested department: who may act for which scope. */
const KEYS = { acme: 'acme-admin-key-0123456789', sales: 'acme-sales-key-0123456789', emea: 'acme-emea-key-0123456789', globex: 'globex-key-0123456789abc' };
const SCOPES = { acme: '/acme', sales: '/acme/sales', emea: '/acme/sales/emea', globex: '/globex' };

/**
 * The example app with tenant scopes (WEBHOOKS_OWNER_SCOPES), driven over HTTP: an order lives in its owner's
 * scope and reaches the subscriptions of that scope and its ancestors; a sibling tenant's and a descendant
 * department's never.
 */
describe.each(DATABASES)('example app: tenants and departments (%s)', (database) => {
  let api: RunningExampleApp | undefined;
  let receiver: TestReceiver | undefined;

  afterEach(async () => {
    await api?.close();
    await receiver?.close();
  });

  it("each subscription receives its own scope's orders and those of the scopes below it, nobody else's", async () => {
    receiver = await TestReceiver.start();
    api = await startExampleApp(
      {
        WEBHOOKS_API_KEYS: Object.entries(KEYS).map(([owner, key]) => `${owner}:${key}`).join(','),
        WEBHOOKS_OWNER_SCOPES: Object.entries(SCOPES).map(([owner, scope]) => `${owner}:${scope}`).join(','),
      },
      { database },
    );
    for (const owner of Object.keys(KEYS) as Array<keyof typeof KEYS>) {
      const created = await api.request('POST', '/webhooks/subscriptions', { key: KEYS[owner], body: { url: `${receiver.url}/${owner}`, events: ['order.created'] } });
      expect(created.status).toBe(201);
      expect(created.body.scope).toBe(SCOPES[owner]);
    }
    const placed: Record<string, string> = {};
    for (const owner of Object.keys(KEYS) as Array<keyof typeof KEYS>) {
      const order = await api.request('POST', '/orders', { key: KEYS[owner], body: { item: `${owner}-item`, quantity: 1 } });
      expect(order.status).toBe(201);
      placed[order.body.id] = owner;
    }
    await api.app.get(WebhookDeliveryManager).waitForPendingDeliveries();

    const received = (owner: string) =>
      receiver!.requests
        .filter((r) => r.path === `/${owner}`)
        .map((r) => placed[(JSON.parse(r.body) as { data: { id: string } }).data.id])
        .sort();
    expect(received('acme')).toEqual(['acme', 'emea', 'sales']);
    expect(received('sales')).toEqual(['emea', 'sales']);
    expect(received('emea')).toEqual(['emea']);
    expect(received('globex')).toEqual(['globex']);
  });
});
