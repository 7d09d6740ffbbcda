/**
 * Tools for testing an application's webhooks (`nest-webhooks/testing`): a receiver that verifies signatures and
 * answers as told, `expect` matchers, a clock that runs retry schedules at once, and a testing module that wires
 * them up. Needs `@nestjs/testing` and `standardwebhooks` (test dependencies of the application).
 */
export { WebhookTestReceiver, type WebhookTestReceiverOptions, type WebhookTestResponse, type WebhookTestResponder, type WebhookTestCondition } from './testing/webhook-test-receiver.js';
export type { ReceivedWebhook } from './testing/received-webhook.js';
export {
  webhookMatchers,
  assertReceived,
  assertReceivedTimes,
  checkReceived,
  checkReceivedTimes,
  type WebhookReceiverMatchers,
  type ReceivedWebhookExpectation,
  type WebhookMatcherResult,
} from './testing/webhook-matchers.js';
export { matchesPartially } from './testing/partial-match.js';
export { WebhookTestClock } from './testing/webhook-test-clock.js';
export {
  createWebhooksTestingModule,
  type WebhooksTestingModule,
  type WebhooksTestingModuleOptions,
  type WebhooksTestingOptions,
} from './webhooks-testing-module.js';
