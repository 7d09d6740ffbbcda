const ALWAYS_REDACTED = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'webhook-signature']);
const TOKEN_LIKE_PARAM = /(token|secret|signature|password|passwd|pwd|key|auth|credential|session|sig)/i;
export const REDACTED = '[redacted]';
/**
 * What masks a part of a URL. URL serialization leaves `*` alone in user-info and query values, so the mask reads
 * the same in the stored and shown URL (brackets would come out as `%5Bredacted%5D`), and the URL stays valid.
 */
export const REDACTED_URL_PART = '***';

/** A copy of `headers` safe to store: credentials and signatures replaced by `[redacted]`. */
export function redactHeaders(headers: Record<string, string>, extra: readonly string[] = []): Record<string, string> {
  const result: Record<string, string> = {};
  const extraSet = extra.length === 0 ? null : new Set(extra.map((h) => h.toLowerCase()));
  for (const name in headers) {
    const lower = name.toLowerCase();
    result[name] = ALWAYS_REDACTED.has(lower) || extraSet?.has(lower) ? REDACTED : headers[name]!;
  }
  return result;
}

const redactedUrls = new Map<string, string>();

/**
 * A URL safe to store or log: user-info and token-like query values masked with `***`
 * (`https://***@host/path?token=***&page=2`). Cached per URL.
 */
export function redactUrl(raw: string): string {
  let redacted = redactedUrls.get(raw);
  if (redacted === undefined) {
    redacted = redactUrlUncached(raw);
    if (redactedUrls.size >= 10_000) redactedUrls.clear();
    redactedUrls.set(raw, redacted);
  }
  return redacted;
}

function redactUrlUncached(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  if (url.username || url.password) {
    // One mask for the whole user-info: whether there was a password is not shown either.
    url.username = REDACTED_URL_PART;
    url.password = '';
  }
  for (const [name] of url.searchParams) {
    if (TOKEN_LIKE_PARAM.test(name)) url.searchParams.set(name, REDACTED_URL_PART);
  }
  return url.toString();
}
