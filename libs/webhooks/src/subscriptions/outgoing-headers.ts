/**
 * Header names a subscription or a dialect may not set (compared case-insensitively): what the transport owns
 * (framing, connection), what proxies and receivers trust for routing or client identity, and the signature headers
 * the dialect computes. (After Svix's list of forbidden headers.)
 */
export const RESERVED_HEADER_NAMES: readonly string[] = [
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'proxy-connection',
  'forwarded',
  'via',
  'x-real-ip',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'svix-id',
  'svix-timestamp',
  'svix-signature',
];
/** Prefixes of header names a subscription or a dialect may not set (compared case-insensitively). */
export const RESERVED_HEADER_PREFIXES: readonly string[] = ['proxy-', 'x-forwarded-', 'x-amz-', 'x-goog-', 'x-ms-', 'x-envoy-', 'cf-', 'x-nest-webhooks-'];
const DENIED: ReadonlySet<string> = new Set(RESERVED_HEADER_NAMES);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_VALUE_LENGTH = 4096;

/** Why a header may not be sent as given, or `null` when it may. */
export function outgoingHeaderProblem(name: string, value: unknown): string | null {
  if (!TOKEN.test(name) || name.length > 100) return 'is not a valid header name';
  const lower = name.toLowerCase();
  if (DENIED.has(lower) || RESERVED_HEADER_PREFIXES.some((p) => lower.startsWith(p))) return 'may not be set (reserved for the transport, proxies or signatures)';
  if (typeof value !== 'string') return 'value must be a string';
  if (value.length > MAX_VALUE_LENGTH) return `value must be at most ${MAX_VALUE_LENGTH} characters`;
  // CR, LF and NUL would split or truncate the header block; other control characters are refused too.
  if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) return 'value must not contain control characters';
  return null;
}

/** Header names the signing dialect produces itself; a dialect may set these (and only a dialect). */
export const SIGNATURE_HEADERS: ReadonlySet<string> = new Set(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
