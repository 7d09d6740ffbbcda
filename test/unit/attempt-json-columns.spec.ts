import { describe, expect, it } from 'vitest';
import type { WebhookAttemptInternalInfo, WebhookAttemptRequest, WebhookAttemptResponse, WebhookAttemptTry } from '../../libs/webhooks/src/core/webhook-attempt.js';
import { attemptJson, isoDate } from '../../libs/webhooks/src/storage/typeorm/attempt-json-columns.js';
import { jsonWithDates } from '../../libs/webhooks/src/storage/typeorm/column-transformers.js';

const T0 = new Date('2026-12-05T08:00:00.123Z');
const later = (ms: number) => new Date(T0.getTime() + ms);

const request: WebhookAttemptRequest = {
  url: 'https://hooks.example.com/in?token=[redacted]',
  method: 'POST',
  headers: { 'content-type': 'application/json', 'webhook-id': 'att_1', 'x-quote': 'say "hi"\n\u2028' },
  body: '{"a":1}',
  sentAt: T0,
};
const response: WebhookAttemptResponse = {
  statusCode: 503,
  reason: 'Service Unavailable',
  headers: { 'retry-after': '5' },
  body: 'down \u0000 for maintenance',
  truncated: true,
  elapsedMs: 12.345678901,
  receivedAt: later(12),
};
const history: WebhookAttemptTry[] = [
  { number: 1, startedAt: T0, elapsedMs: 1.5, statusCode: null, message: 'timeout', errorCode: 'timeout' },
  { number: 2, startedAt: later(60_000), elapsedMs: 12.345678901, statusCode: 503, message: '503 Service Unavailable', errorCode: null },
];
const internal: WebhookAttemptInternalInfo = {
  originated: { pid: 42, hostname: 'worker-1', createdAt: later(-1), note: 'redelivery of att_0' },
  exceptionHistory: ['Error: boom'],
};

describe('the JSON of attempt columns', () => {
  it('is exactly what JSON.stringify writes, with every date in its place, however the dates alternate', () => {
    // Alternating dates exercise the reuse of the last date string.
    for (let round = 0; round < 3; round++) {
      expect(attemptJson.request(request)).toBe(JSON.stringify(request));
      expect(attemptJson.response(response)).toBe(JSON.stringify(response));
      expect(attemptJson.history(history)).toBe(JSON.stringify(history));
      expect(attemptJson.history([])).toBe('[]');
      expect(attemptJson.internal(internal)).toBe(JSON.stringify(internal));
    }
    // Shapes the types rule out but a row written by other means may have: still JSON.stringify's text, no throw.
    const odd: unknown[] = [
      { exceptionHistory: [] },
      { originated: null, exceptionHistory: ['x'] },
      { originated: { pid: 1 }, exceptionHistory: [] },
    ];
    for (const value of odd) expect(attemptJson.internal(value as WebhookAttemptInternalInfo)).toBe(JSON.stringify(value));
    const oddHistory = [null, { number: 1 }, { ...history[0], startedAt: 'not a date' }] as unknown as WebhookAttemptTry[];
    expect(attemptJson.history(oddHistory)).toBe(JSON.stringify(oddHistory));
    expect(attemptJson.request({ url: 'u' } as WebhookAttemptRequest)).toBe(JSON.stringify({ url: 'u' }));
    expect(attemptJson.request(null)).toBeNull();
    expect(attemptJson.response(undefined)).toBeNull();
  });

  it('writes an invalid date as null, as JSON.stringify does, and leaves non-dates alone', () => {
    const broken = { ...request, sentAt: new Date(Number.NaN) };
    expect(attemptJson.request(broken)).toBe(JSON.stringify(broken));
    expect(JSON.parse(attemptJson.request(broken)!).sentAt).toBeNull();
    expect(isoDate(T0)).toBe('2026-12-05T08:00:00.123Z');
    expect(isoDate(new Date(Number.NaN))).toBeNull();
    expect(isoDate(T0)).toBe('2026-12-05T08:00:00.123Z');
    expect(isoDate('2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
  });

  it('writes every date as toISOString does: runs of dates in one second, across seconds and years, before 1970 and beyond 9999', () => {
    const checked: number[] = [];
    let millis = Date.parse('1969-12-31T23:59:58.000Z');
    for (let i = 0; i < 20_000; i++) {
      millis += i % 7 === 0 ? 997 : i % 5; // mostly the same second, sometimes the next
      checked.push(millis);
    }
    checked.push(Date.parse('2026-12-31T23:59:59.999Z'), Date.parse('2027-01-01T00:00:00.000Z'), 0, -1, -999, -1000, 1);
    checked.push(Date.parse('9999-12-31T23:59:59.999Z'), Date.parse('+010000-01-01T00:00:00.000Z'), Date.parse('-000001-06-01T12:00:00.005Z'));
    for (let i = 0; i < 2_000; i++) checked.push(Math.floor((Math.random() - 0.3) * 4e12));
    for (const value of checked) expect(isoDate(new Date(value)), String(value)).toBe(new Date(value).toISOString());
    // Back to a second seen before, after another one.
    expect(isoDate(new Date(Date.parse('2026-12-31T23:59:59.001Z')))).toBe('2026-12-31T23:59:59.001Z');
  });

  it('round-trips through the column transformers with the dates revived', () => {
    const columns = {
      request: jsonWithDates(['sentAt'], attemptJson.request),
      response: jsonWithDates(['receivedAt'], attemptJson.response),
      history: jsonWithDates(['startedAt'], attemptJson.history),
      internal: jsonWithDates(['createdAt'], attemptJson.internal),
    };
    expect(columns.request.from(columns.request.to(request))).toEqual(request);
    expect(columns.response.from(columns.response.to(response))).toEqual(response);
    expect(columns.history.from(columns.history.to(history))).toEqual(history);
    expect(columns.internal.from(columns.internal.to(internal))).toEqual(internal);
    expect(columns.request.to(null)).toBeNull();
  });
});
