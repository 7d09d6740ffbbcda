import { InvalidWebhookSubscriptionError } from './subscription.errors.js';

const MAX_SCOPE_LENGTH = 1024;

const fail = (field: string, reason: string): never => {
  throw new InvalidWebhookSubscriptionError(field, reason);
};

/**
 * A scope: `null` (global), or an absolute path normalised the way `nti.webhooks` traverses site paths: `/` and
 * `/.` are the root, `/foo/` is `/foo`, `/foo//biz//` is `/foo/biz`. Relative paths and `..` are refused.
 */
export function checkScope(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return normaliseScope(value, 'scope');
}

/** `checkScope` for a value that is given (a resolver's answer, a `run` argument). */
export function normaliseScope(value: unknown, field: string): string {
  if (typeof value !== 'string') return fail(field, 'must be an absolute path such as /acme/sales, or null');
  if (!value.startsWith('/')) return fail(field, `must be an absolute path such as /acme/sales; got ${JSON.stringify(value)}`);
  if (value.length > MAX_SCOPE_LENGTH) return fail(field, `must be at most ${MAX_SCOPE_LENGTH} characters`);
  const segments = value.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.includes('..')) return fail(field, "must not contain '..'");
  if (segments.some((segment) => /[\u0000-\u001f\u007f]/.test(segment))) return fail(field, 'must not contain control characters');
  return `/${segments.join('/')}`;
}
