import { BadRequestException } from '@nestjs/common';
import type { WebhookAttemptStatus } from '../core/webhook-attempt.js';

/** The deliveries page's filters and cursor, from its query string. */
export interface DeliveriesFilter {
  status?: WebhookAttemptStatus;
  eventName?: string;
  subscriptionId?: string;
  since?: Date;
  until?: Date;
  /** The cursor: only attempts older than this attempt id. */
  before?: string;
  limit: number;
}

/** Page sizes the filter form offers. */
export const PAGE_SIZES = [10, 25, 50, 100] as const;
const STATUSES: readonly WebhookAttemptStatus[] = ['pending', 'successful', 'failed'];
const ATTEMPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What a `datetime-local` input sends: a UTC time here, to the minute, second or millisecond. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** A `datetime-local` value read as UTC; 400 when it is not one. */
export function parseUtcDateTime(value: string, label: string): Date {
  const date = DATE_TIME.test(value) ? new Date(`${value}Z`) : new Date(NaN);
  // Date rolls 2026-02-30 over into March: a real date prints back as it was given.
  if (Number.isNaN(date.getTime()) || !date.toISOString().startsWith(value.slice(0, 16))) throw new BadRequestException(`${label} must be a date and time such as 2026-01-31T14:30 (UTC)`);
  return date;
}

/** A time as a `datetime-local` value in UTC, to the second (to the millisecond when it has some). */
export function toDateTimeLocal(date: Date): string {
  return date.toISOString().slice(0, date.getUTCMilliseconds() === 0 ? 19 : 23);
}

const text = (query: Record<string, unknown>, name: string): string | undefined => {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestException(`Give ${name} once`);
  return value.trim() === '' ? undefined : value.trim();
};

/** Reads and checks the query string; a bad value is a 400 that names it. */
export function parseDeliveriesFilter(query: Record<string, unknown>): DeliveriesFilter {
  const status = text(query, 'status');
  if (status !== undefined && !STATUSES.includes(status as WebhookAttemptStatus)) {
    throw new BadRequestException(`status must be one of ${STATUSES.join(', ')}`);
  }
  const eventName = text(query, 'event');
  if (eventName !== undefined && eventName.length > 200) throw new BadRequestException('event must be at most 200 characters');
  // Stores compare ids byte by byte and write them in lower case: an id typed in upper case means the same one.
  const before = text(query, 'before')?.toLowerCase();
  if (before !== undefined && !ATTEMPT_ID.test(before)) throw new BadRequestException('before must be the cursor of a previous page (an attempt id)');
  const limitText = text(query, 'limit');
  const limit = limitText === undefined ? 25 : Number(limitText);
  if (!PAGE_SIZES.includes(limit as (typeof PAGE_SIZES)[number])) throw new BadRequestException(`limit must be one of ${PAGE_SIZES.join(', ')}`);
  const sinceText = text(query, 'since');
  const untilText = text(query, 'until');
  const since = sinceText === undefined ? undefined : parseUtcDateTime(sinceText, 'Since');
  const until = untilText === undefined ? undefined : parseUtcDateTime(untilText, 'Until');
  if (since && until && since >= until) throw new BadRequestException('Since must be before Until');
  return { status: status as WebhookAttemptStatus | undefined, eventName, subscriptionId: text(query, 'subscription'), since, until, before, limit };
}

/** The query string of `filter` (with `changes`), for links that keep the filters: pagination, "all deliveries". */
export function deliveriesQuery(filter: Partial<DeliveriesFilter>, changes: Partial<DeliveriesFilter> = {}): string {
  const merged = { ...filter, ...changes };
  const params = new URLSearchParams();
  if (merged.status) params.set('status', merged.status);
  if (merged.eventName) params.set('event', merged.eventName);
  if (merged.subscriptionId) params.set('subscription', merged.subscriptionId);
  if (merged.since) params.set('since', toDateTimeLocal(merged.since));
  if (merged.until) params.set('until', toDateTimeLocal(merged.until));
  if (merged.limit && merged.limit !== 25) params.set('limit', String(merged.limit));
  if (merged.before) params.set('before', merged.before);
  const query = params.toString();
  return query ? `?${query}` : '';
}
