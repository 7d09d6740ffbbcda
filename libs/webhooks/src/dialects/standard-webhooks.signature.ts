import { createHmac } from 'node:crypto';
import { signingKeyOf } from '../secrets/signing-secret.js';

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
  const signed = `${webhookId}.${Math.floor(timestamp.getTime() / 1000)}.${body}`;
  return secrets.map((secret) => `v1,${createHmac('sha256', signingKeyOf(secret)).update(signed).digest('base64')}`).join(' ');
}
