import { readFileSync } from 'node:fs';
import { Test } from '@nestjs/testing';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { AppModule, Orders } from './quickstart/app.js';
import { TestReceiver } from '../support/receiver.js';

describe('README quick start', () => {
  let receiver: TestReceiver | undefined;
  afterEach(() => receiver?.close());

  it('is exactly the code in test/e2e/quickstart/app.ts', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const code = readFileSync(new URL('./quickstart/app.ts', import.meta.url), 'utf8');
    expect(readme).toContain('```ts\n' + code + '```\n');
  });

  it('works as written: subscribe, place an order, a verified delivery arrives', async () => {
    receiver = await TestReceiver.start({ protocol: 'http' });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      const { id, secret } = await app.get(Orders).subscribe(`${receiver.url}/hooks`);
      expect(id).toEqual(expect.any(String));
      app.get(Orders).place({ id: 'o-1', total: 42 });
      await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
      expect(receiver.requests).toHaveLength(1);
      const event = new Webhook(secret).verify(receiver.requests[0]!.body, receiver.requests[0]!.headers);
      expect(event).toMatchObject({ type: 'order.created', data: { id: 'o-1', total: 42 } });
    } finally {
      await app.close();
    }
  });
});
