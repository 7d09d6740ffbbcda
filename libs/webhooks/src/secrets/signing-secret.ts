import { randomBytes } from 'node:crypto';

export const SIGNING_SECRET_PREFIX = 'whsec_';
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
const DEFAULT_KEY_BYTES = 32;

/** A new Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function generateSigningSecret(bytes = DEFAULT_KEY_BYTES): string {
  return SIGNING_SECRET_PREFIX + randomBytes(bytes).toString('base64');
}

/** Why a caller-supplied secret is unusable, or `null` when it is a `whsec_` secret of 24–64 bytes. */
export function signingSecretProblem(secret: unknown): string | null {
  if (typeof secret !== 'string' || !secret.startsWith(SIGNING_SECRET_PREFIX)) {
    return `must be a string starting with "${SIGNING_SECRET_PREFIX}"`;
  }
  const encoded = secret.slice(SIGNING_SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return 'must be base64 after the prefix';
  const key = Buffer.from(encoded, 'base64');
  // Padded and without stray bits, as strict decoders (and every Standard Webhooks library) read it.
  if (key.toString('base64') !== encoded) return 'must be canonical base64 after the prefix (padded with "=" to a multiple of 4 characters)';
  const length = key.length;
  if (length < MIN_KEY_BYTES || length > MAX_KEY_BYTES) {
    return `must encode ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes (got ${length})`;
  }
  return null;
}

/** The raw HMAC key of a `whsec_` secret. */
export function signingKeyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : secret, 'base64');
}
