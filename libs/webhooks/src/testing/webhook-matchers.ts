import { AssertionError } from 'node:assert';
import { inspect } from 'node:util';
import { matchesPartially } from './partial-match.js';
import type { ReceivedWebhook } from './received-webhook.js';
import { WebhookTestReceiver } from './webhook-test-receiver.js';

/** What a received webhook must hold, besides its event type. */
export interface ReceivedWebhookExpectation {
  /** Held by its `data` as `toMatchObject` has it: a partial, deep match (asymmetric matchers allowed). */
  data?: unknown;
  /** Whether its signature must have verified. @default true */
  verified?: boolean;
}

/** The result of a check, in the shape `expect.extend` matchers return. */
export interface WebhookMatcherResult {
  pass: boolean;
  message: () => string;
}

/**
 * The matchers' types, for the test runner's `expect` (see `webhookMatchers`). Vitest:
 * `declare module 'vitest' { interface Matchers<T = any> extends WebhookReceiverMatchers<T> {} }`; Jest with
 * `@jest/globals`: `declare module 'expect' { interface Matchers<R extends void | Promise<void>, T = unknown> extends
 * WebhookReceiverMatchers<R> {} }` (with `@types/jest`: `declare global { namespace jest { interface Matchers<R> extends
 * WebhookReceiverMatchers<R> {} } }`). docs/testing.md shows Jest's ESM set-up.
 */
export interface WebhookReceiverMatchers<R = unknown> {
  /** The receiver got at least one webhook of `eventType` (signed, and holding `data` when given). */
  toHaveReceived(eventType: string, expected?: ReceivedWebhookExpectation): R;
  /** The receiver got exactly `times` webhooks of `eventType` (signed ones). */
  toHaveReceivedTimes(eventType: string, times: number): R;
}

function webhooksOf(received: unknown): readonly ReceivedWebhook[] {
  if (received instanceof WebhookTestReceiver) return received.webhooks;
  if (Array.isArray(received)) return received as ReceivedWebhook[];
  throw new TypeError(`expected a WebhookTestReceiver or an array of received webhooks; got ${inspect(received, { depth: 0 })}`);
}

function summary(webhooks: readonly ReceivedWebhook[]): string {
  if (webhooks.length === 0) return 'nothing';
  return webhooks.map((w) => `  ${w.type ?? `(no type) ${w.path}`}${w.verified ? '' : ` [not verified: ${w.verificationError}]`} ${inspect(w.data, { depth: 4, breakLength: Infinity })}`).join('\n');
}

function matching(webhooks: readonly ReceivedWebhook[], eventType: string, expected: ReceivedWebhookExpectation = {}): ReceivedWebhook[] {
  const verified = expected.verified ?? true;
  return webhooks.filter((w) => w.type === eventType && (!verified || w.verified) && (expected.data === undefined || matchesPartially(w.data, expected.data)));
}

/** Checks that `received` (a receiver, or its webhooks) got a webhook of `eventType` holding `expected.data`. */
export function checkReceived(received: unknown, eventType: string, expected: ReceivedWebhookExpectation = {}): WebhookMatcherResult {
  const webhooks = webhooksOf(received);
  const found = matching(webhooks, eventType, expected);
  const wanted = `${expected.verified === false ? '' : 'signed '}${eventType}${expected.data === undefined ? '' : ` with data matching ${inspect(expected.data, { depth: 4, breakLength: Infinity })}`}`;
  return {
    pass: found.length > 0,
    message: () => (found.length > 0 ? `expected no ${wanted}, but received ${found.length}` : `expected a ${wanted}; received:\n${summary(webhooks)}`),
  };
}

/** Checks that `received` got exactly `times` signed webhooks of `eventType`. */
export function checkReceivedTimes(received: unknown, eventType: string, times: number): WebhookMatcherResult {
  const webhooks = webhooksOf(received);
  const count = matching(webhooks, eventType).length;
  return {
    pass: count === times,
    // When it passes, the message is for `.not`.
    message: () =>
      count === times
        ? `expected ${eventType} not to be received exactly ${times} time(s), but it was:\n${summary(webhooks)}`
        : `expected ${eventType} ${times} time(s), received it ${count} time(s):\n${summary(webhooks)}`,
  };
}

/**
 * Matchers for `expect.extend` (Vitest and Jest): `expect(receiver).toHaveReceived('order.created', { data: { id } })`
 * and `expect(receiver).toHaveReceivedTimes('order.created', 1)`. They look at what has arrived so far: wait first
 * (`receiver.waitFor`, or `WebhookDeliveryManager.waitForPendingDeliveries()`).
 */
export const webhookMatchers = {
  toHaveReceived(received: unknown, eventType: string, expected?: ReceivedWebhookExpectation): WebhookMatcherResult {
    return checkReceived(received, eventType, expected);
  },
  toHaveReceivedTimes(received: unknown, eventType: string, times: number): WebhookMatcherResult {
    return checkReceivedTimes(received, eventType, times);
  },
};

/** For other test runners: throws an `AssertionError` unless `received` got a webhook of `eventType` holding `expected.data`. */
export function assertReceived(received: unknown, eventType: string, expected?: ReceivedWebhookExpectation): void {
  const result = checkReceived(received, eventType, expected);
  if (!result.pass) throw new AssertionError({ message: result.message() });
}

/** For other test runners: throws an `AssertionError` unless `received` got exactly `times` webhooks of `eventType`. */
export function assertReceivedTimes(received: unknown, eventType: string, times: number): void {
  const result = checkReceivedTimes(received, eventType, times);
  if (!result.pass) throw new AssertionError({ message: result.message() });
}
