import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { signingKeyOf } from '../secrets/signing-secret.js';

const keys = new Map<string, KeyObject>();

/** The HMAC key of a secret, decoded once (every try of every attempt signs). */
function keyOf(secret: string): KeyObject {
  let key = keys.get(secret);
  if (!key) {
    if (keys.size >= 10_000) keys.clear();
    key = createSecretKey(signingKeyOf(secret));
    keys.set(secret, key);
  }
  return key;
}

/**
 * The Standard Webhooks `webhook-signature` value: `v1,<base64 HMAC-SHA256(key, "<id>.<seconds>.<body>")>` for
 * each secret, space-separated. Node's native HMAC is used rather than the `standardwebhooks` package's
 * pure-JavaScript SHA-256; tests verify the output with that package and with `svix`.
 */
export function standardWebhooksSignature(
  webhookId: string,
  timestamp: Date,
  body: string,
  secrets: readonly string[],
): string {
  // The prefix and the body go to the HMAC separately: no 1 KB+ string is built and flattened per signature.
  const prefix = `${webhookId}.${Math.floor(timestamp.getTime() / 1000)}.`;
  const sign = (secret: string) => `v1,${createHmac('sha256', keyOf(secret)).update(prefix).update(body).digest('base64')}`;
  return secrets.length === 1 ? sign(secrets[0]!) : secrets.map(sign).join(' ');
}
