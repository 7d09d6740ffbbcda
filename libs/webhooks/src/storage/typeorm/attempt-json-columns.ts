import type {
  WebhookAttemptInternalInfo,
  WebhookAttemptRequest,
  WebhookAttemptResponse,
  WebhookAttemptTry,
} from '../../core/webhook-attempt.js';

let cachedSecond = Number.NaN;
/** `YYYY-MM-DDTHH:mm:ss.` of `cachedSecond`. */
let cachedPrefix = '';

/**
 * What `JSON.stringify` writes for a date (its ISO string; `null` for an invalid one). Dates are turned into
 * strings before the JSON is written because a `toJSON` call takes `JSON.stringify` off its fast path. The dates
 * of one delivery fall in the same second, so the date-and-time part is kept and only the milliseconds are written
 * (far cheaper than `toISOString`; years outside 0000–9999, whose ISO form is longer, always use `toISOString`).
 */
export function isoDate(value: unknown): unknown {
  if (!(value instanceof Date)) return value;
  const millis = value.getTime();
  if (Number.isNaN(millis)) return null;
  const second = Math.floor(millis / 1000);
  if (second !== cachedSecond) {
    const iso = value.toISOString();
    if (iso.length !== 24) return iso;
    cachedSecond = second;
    cachedPrefix = iso.slice(0, 20);
  }
  const ms = millis - second * 1000;
  return `${cachedPrefix}${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
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
  history: (value: readonly WebhookAttemptTry[]): string =>
    JSON.stringify(value.map((entry) => (entry && typeof entry === 'object' ? { ...entry, startedAt: isoDate(entry.startedAt) } : entry))),
  // A row written by other means may lack `originated`; its text stays what JSON.stringify writes.
  internal: (value: WebhookAttemptInternalInfo): string =>
    JSON.stringify(value.originated ? { ...value, originated: { ...value.originated, createdAt: isoDate(value.originated.createdAt) } } : value),
};
