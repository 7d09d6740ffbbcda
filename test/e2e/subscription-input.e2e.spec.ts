import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidWebhookSubscriptionError, WebhookSubscriptionManager } from 'nest-webhooks';
import { FakeResolver } from '../support/fake-resolver.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

const resolver = new FakeResolver().set('hooks.public.example', ['93.184.216.34']).set('internal.corp.example', ['10.1.2.3']);

describe('subscription fields: every invalid value is rejected with an error naming the field', () => {
  let app: INestApplication;
  let manager: WebhookSubscriptionManager;

  beforeAll(async () => {
    app = await createWebhooksApp({ webhooks: { destinations: { lookup: resolver.lookup, allowPrivateNetworks: false } } });
    manager = app.get(WebhookSubscriptionManager);
  });
  afterAll(() => app.close());

  const valid = { url: 'https://hooks.public.example/in' };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['url', { url: undefined }, /required/],
    ['url', { url: 42 }, /string/],
    ['url', { url: 'not a url' }, /invalid-url/],
    ['url', { url: 'http://hooks.public.example/' }, /insecure-scheme/],
    ['url', { url: 'ftp://hooks.public.example/' }, /unsupported-scheme/],
    ['url', { url: 'https://127.0.0.1/' }, /blocked-address/],
    ['url', { url: 'https://[::ffff:169.254.169.254]/' }, /blocked-address/],
    ['url', { url: 'https://internal.corp.example/' }, /blocked-address/],
    ['url', { url: `https://hooks.public.example/${'a'.repeat(3000)}` }, /at most 2048/],
    ['events', { events: 'order.created' }, /array/],
    ['events', { events: [] }, /at least one/],
    ['events', { events: ['order..created'] }, /not an event pattern/],
    ['events', { events: ['webhooks.attempt.failed'] }, /library's own/],
    ['payloadType', { payloadType: 'NoSuchType' }, /not a registered payload type/],
    ['payloadType', { payloadType: class Unnamed {} }, /no registered name/],
    ['ownerId', { ownerId: 'has space' }, /Whitespace is not allowed in an ID/],
    ['ownerId', { ownerId: Buffer.from('bytes') }, /must be a string/],
    ['ownerId', { ownerId: '' }, /must not be empty/],
    ['permission', { permission: 'no.such.permission' }, /Undefined permission ID/],
    ['dialect', { dialect: 'no-such-dialect' }, /unknown dialect/],
    ['description', { description: 5 }, /string/],
    ['metadata', { metadata: { nested: { a: 1 } } }, /must be a string/],
    ['metadata', { metadata: JSON.parse('{"__proto__": "x"}') }, /not allowed/],
    ['metadata', { metadata: [] }, /object/],
    ['retrySchedule', { retrySchedule: [-1] }, /integers/],
    ['secret', { secret: 'plain-text-secret' }, /whsec_/],
    ['secret', { secret: 'whsec_c2hvcnQ=' }, /24 to 64 bytes/],
    ['secret', { secret: `whsec_${Buffer.alloc(65, 1).toString('base64')}` }, /24 to 64 bytes \(got 65\)/],
    // Base64 that lenient decoders accept but strict ones (and Standard Webhooks libraries in other languages) refuse.
    ['secret', { secret: `whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=$/, '')}` }, /canonical base64/],
    ['secret', { secret: `whsec_${Buffer.alloc(32, 1).toString('base64').replace(/E=$/, 'F=')}` }, /canonical base64/],
  ];

  for (const [field, patch, reason] of cases) {
    it(`${field} = ${JSON.stringify(patch[field]) ?? String(patch[field])} → rejected, naming "${field}", nothing stored`, async () => {
      const before = (await manager.list()).length;
      const error = await manager.create({ ...valid, ...patch } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidWebhookSubscriptionError);
      expect((error as InvalidWebhookSubscriptionError).field).toBe(field);
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).toContain(`"${field}"`);
      expect(await manager.list()).toHaveLength(before);
    });
  }

  it('accepts ports, credentials, e-mail owner ids and a valid supplied secret', async () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const { subscription, secret: returned } = await manager.create({
      url: 'https://user:pass@hooks.public.example:8443/in?x=1',
      ownerId: 'sjohnson@riskmetrics.com',
      secret,
    });
    expect(subscription.url).toBe('https://user:pass@hooks.public.example:8443/in?x=1');
    expect(subscription.permission).toBe('webhooks.view'); // the documented default for owned subscriptions
    expect(returned).toBe(secret);
  });

  it('a payload type error keeps the developer hint apart from the reason', async () => {
    const error = (await manager.create({ ...valid, payloadType: 'NoSuchType' }).catch((e: unknown) => e)) as InvalidWebhookSubscriptionError;
    expect(error.reason).toBe('"NoSuchType" is not a registered payload type');
    expect(error.hint).toBe("register it with @WebhookPayload('NoSuchType') or forRoot({ payloadTypes })");
    expect(error.message).toBe(`Invalid webhook subscription field "payloadType": ${error.reason}; ${error.hint}`);
  });

  it('rotateSecret takes a supplied secret, checked like one given at creation', async () => {
    const { subscription } = await manager.create(valid);
    const chosen = `whsec_${Buffer.alloc(48, 7).toString('base64')}`;
    await expect(manager.rotateSecret(subscription.id, 0, chosen)).resolves.toMatchObject({ secret: chosen });
    for (const bad of ['whsec_c2hvcnQ=', 'not-a-secret', `whsec_${Buffer.alloc(32, 1).toString('base64').replace(/=$/, '')}`]) {
      await expect(manager.rotateSecret(subscription.id, 0, bad)).rejects.toMatchObject({ name: 'InvalidWebhookSubscriptionError', field: 'secret' });
    }
    const generated = await manager.rotateSecret(subscription.id, 0);
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(generated.secret).not.toBe(chosen);
  });

  it('an unresolvable name is accepted at creation (every try checks it again)', async () => {
    await expect(manager.create({ url: 'https://not-yet-in-dns.example/' })).resolves.toMatchObject({ subscription: { active: true } });
  });

  it('update re-validates a changed URL and never changes the owner', async () => {
    const { subscription } = await manager.create({ ...valid, ownerId: 'alice' });
    await expect(manager.update(subscription.id, { url: 'https://10.0.0.1/' })).rejects.toMatchObject({ field: 'url' });
    const updated = await manager.update(subscription.id, { url: 'https://hooks.public.example/v2', ownerId: 'mallory' } as never);
    expect(updated).toMatchObject({ url: 'https://hooks.public.example/v2', ownerId: 'alice' });
  });
});
