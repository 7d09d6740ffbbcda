// test/setup.ts
import { expect } from 'vitest';
import { webhookMatchers, type WebhookReceiverMatchers } from 'nest-webhooks/testing';

expect.extend(webhookMatchers);

declare module 'vitest' {
  interface Matchers<T = any> extends WebhookReceiverMatchers<T> {}
}
