import { describe, expect, it } from 'vitest';
import type { SubscriptionCredentials } from '../../libs/webhooks/src/storage/webhook-store.js';
import { DeliveryCredentials } from '../../libs/webhooks/src/subscriptions/delivery-credentials.js';

const secret = (value: string, createdAt: number) => ({ id: value, subscriptionId: 'sub', secret: value, createdAt: new Date(createdAt), expiresAt: null });

describe('DeliveryCredentials', () => {
  it('does not keep an answer read while the subscription changed (a rotation applied meanwhile)', async () => {
    let stored: SubscriptionCredentials = { secrets: [secret('whsec_OLD', 0)], headers: { 'x-team': 'one' } };
    let gate: Promise<void> | null = new Promise<void>(() => undefined);
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const store = {
      async credentials(ids: readonly string[]) {
        const snapshot = stored;
        if (gate) await gate;
        return new Map(ids.map((id) => [id, snapshot]));
      },
    };
    const credentials = new DeliveryCredentials(store as never, { now: () => new Date(1000) } as never);
    const reading = credentials.of('sub');
    await Promise.resolve();
    stored = { secrets: [secret('whsec_NEW', 500)], headers: { 'x-team': 'two' } };
    credentials.invalidate('sub');
    gate = null;
    open();
    // The read that began before the change answers its own try with what it read…
    expect((await reading).secrets).toEqual(['whsec_OLD']);
    // …but is not kept: the next try reads the rotated secret.
    expect(credentials.cached('sub')).toBeUndefined();
    expect((await credentials.of('sub')).secrets).toEqual(['whsec_NEW']);
    expect(credentials.cached('sub')?.headers).toEqual({ 'x-team': 'two' });
  });
});
