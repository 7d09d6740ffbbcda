import type { SubscriptionPosition } from 'nest-webhooks/extensions';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The cursor's alphabet (base64url without padding) and a bound well over any real cursor. */
export const SUBSCRIPTION_CURSOR_PATTERN = '^[A-Za-z0-9_-]{1,100}$';

/**
 * The `nextCursor` of a subscription page: the position of its last subscription, creation time and id (the listing
 * order), opaque to clients. A position, not an offset: subscriptions created or deleted meanwhile shift nothing.
 */
export function encodeSubscriptionCursor(position: SubscriptionPosition): string {
  return Buffer.from(`${position.createdAt.getTime()}.${position.id}`).toString('base64url');
}

/** The position a cursor stands for, or `null` when it is not one this API made. */
export function decodeSubscriptionCursor(cursor: unknown): SubscriptionPosition | null {
  if (typeof cursor !== 'string' || !new RegExp(SUBSCRIPTION_CURSOR_PATTERN).test(cursor)) return null;
  const match = /^(\d{1,16})\.(.+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match || !UUID.test(match[2]!)) return null;
  const position = { createdAt: new Date(Number(match[1])), id: match[2]! };
  // Only the exact text this API hands out (base64url has other spellings of the same bytes).
  return !Number.isNaN(position.createdAt.getTime()) && encodeSubscriptionCursor(position) === cursor ? position : null;
}
