import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { assertReceived, assertReceivedTimes, matchesPartially, type ReceivedWebhook } from 'nest-webhooks/testing';
import '../setup.js';

/** Received webhooks as a receiver records them (the matchers take a receiver or its list). */
function webhook(type: string, data: unknown, verified = true): ReceivedWebhook {
  return {
    id: 'msg',
    type,
    data,
    json: { type, data },
    body: JSON.stringify({ type, data }),
    timestamp: null,
    method: 'POST',
    path: '/webhooks',
    headers: {},
    verified,
    verificationError: verified ? null : 'no signature matches the secrets',
    status: 200,
    responderError: null,
    receivedAt: new Date(),
  };
}

const received = [
  webhook('order.created', { id: 'o-1', total: 42, lines: [{ sku: 'a', qty: 1 }], placedAt: '2026-01-01T00:00:00.000Z' }),
  webhook('order.created', { id: 'o-2', total: 7, lines: [] }),
  webhook('order.cancelled', { id: 'o-3' }, false),
];

describe('the expect matchers', () => {
  it('toHaveReceived: by type, with data matched partially and deeply, asymmetric matchers included', () => {
    expect(received).toHaveReceived('order.created');
    expect(received).toHaveReceived('order.created', { data: { id: 'o-1' } });
    expect(received).toHaveReceived('order.created', { data: { lines: [{ sku: 'a' }], total: expect.any(Number) } });
    expect(received).toHaveReceived('order.created', { data: { placedAt: new Date('2026-01-01T00:00:00.000Z') } });
    expect(received).not.toHaveReceived('order.created', { data: { id: 'o-9' } });
    expect(received).not.toHaveReceived('order.created', { data: { lines: [], id: 'o-1' } });
    expect(received).not.toHaveReceived('order.updated');
  });

  it('toHaveReceived counts only verified webhooks unless told otherwise', () => {
    expect(received).not.toHaveReceived('order.cancelled');
    expect(received).toHaveReceived('order.cancelled', { verified: false });
  });

  it('a failure says what was expected and lists what arrived', () => {
    expect(() => expect(received).toHaveReceived('order.created', { data: { id: 'o-9' } })).toThrow(
      /expected a signed order.created with data matching \{ id: 'o-9' \}; received:\n {2}order.created \{ id: 'o-1'.*\n {2}order.created \{ id: 'o-2'.*\n {2}order.cancelled \[not verified: no signature matches the secrets\] \{ id: 'o-3' \}/,
    );
    expect(() => expect(received).not.toHaveReceived('order.created')).toThrow('expected no signed order.created, but received 2');
    expect(() => expect({}).toHaveReceived('order.created')).toThrow('expected a WebhookTestReceiver or an array of received webhooks');
  });

  it('toHaveReceivedTimes: exactly that many verified webhooks of the type', () => {
    expect(received).toHaveReceivedTimes('order.created', 2);
    expect(received).toHaveReceivedTimes('order.cancelled', 0);
    expect(() => expect(received).toHaveReceivedTimes('order.created', 1)).toThrow(/expected order.created 1 time\(s\), received it 2 time\(s\)/);
    expect(received).not.toHaveReceivedTimes('order.created', 1);
    expect(() => expect(received).not.toHaveReceivedTimes('order.created', 2)).toThrow(/^expected order.created not to be received exactly 2 time\(s\), but it was:\n/);
  });

  it('the plain functions throw AssertionErrors for other runners', () => {
    expect(() => assertReceived(received, 'order.created', { data: { id: 'o-2' } })).not.toThrow();
    expect(() => assertReceived(received, 'order.updated')).toThrow(AssertionError);
    expect(() => assertReceivedTimes(received, 'order.created', 2)).not.toThrow();
    expect(() => assertReceivedTimes(received, 'order.created', 3)).toThrow(AssertionError);
  });

  it('partial matching: extra properties allowed, arrays whole, primitives exact', () => {
    expect(matchesPartially({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(matchesPartially({ a: [1, 2] }, { a: [1] })).toBe(false);
    expect(matchesPartially({ a: null }, { a: {} })).toBe(false);
    expect(matchesPartially({ a: '1' }, { a: 1 })).toBe(false);
    expect(matchesPartially({}, { a: undefined })).toBe(false);
    expect(matchesPartially([{ a: 1, b: 2 }], [{ a: 1 }])).toBe(true);
  });
});
