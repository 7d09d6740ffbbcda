import type {
  WebhookAttemptInternalInfo,
  WebhookAttemptRequest,
  WebhookAttemptResponse,
  WebhookAttemptTry,
} from '../../attempts/webhook-attempt.js';

let lastMillis = Number.NaN;
let lastIso: string | null = null;

/**
 * What `JSON.stringify` writes for a date (its ISO string; `null` for an invalid one). Dates are turned into
 * strings before the JSON is written because a `toJSON` call takes `JSON.stringify` off its fast path (measured:
 * 1.8 µs for a one-entry try history with a date, 0.65 µs with its string), and the last string is reused
 * because the dates of one delivery mostly fall in the same millisecond.
 */
export function isoDate(value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  const millis = value.getTime();
  if (millis !== lastMillis) {
    if (Number.isNaN(millis)) return null;
    lastIso = value.toISOString();
    lastMillis = millis;
  }
  return lastIso;
}

/**
 * The text of the attempt's JSON columns, the same as `JSON.stringify` of the record (the same keys in the
 * same order, dates as ISO strings); `jsonWithDates` revives the dates on read.
 */
export const attemptJson = {
  request: (value: WebhookAttemptRequest | null | undefined): string | null =>
    value === null || value === undefined ? null : JSON.stringify({ ...value, sentAt: isoDate(value.sentAt) }),
  response: (value: WebhookAttemptResponse | null | undefined): string | null =>
    value === null || value === undefined ? null : JSON.stringify({ ...value, receivedAt: isoDate(value.receivedAt) }),
  history: (value: readonly WebhookAttemptTry[]): string => JSON.stringify(value.map((entry) => ({ ...entry, startedAt: isoDate(entry.startedAt) }))),
  internal: (value: WebhookAttemptInternalInfo): string =>
    JSON.stringify({ ...value, originated: { ...value.originated, createdAt: isoDate(value.originated.createdAt) } }),
};
