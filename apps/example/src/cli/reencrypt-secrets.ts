import { WebhookStore } from 'nest-webhooks/extensions';
import { runOperatorCommand } from './operator-command.js';
import { ProgressReporter } from './progress-reporter.js';

/**
 * `npm run secrets:reencrypt`: after setting a new WEBHOOKS_SECRET_KEY and moving the old one to
 * WEBHOOKS_PREVIOUS_SECRET_KEYS, re-encrypts every stored signing secret with the new key, printing progress.
 * Afterwards the old key can be removed. Deliveries keep working throughout (both keys decrypt).
 */
runOperatorCommand('Re-encryption failed', () => async (context) => {
  const store = context.get(WebhookStore);
  const changed = await new ProgressReporter('Subscriptions checked').track((onProgress) => store.reencryptSecrets(onProgress));
  console.log(`Re-encrypted the signing secrets of ${changed} subscription(s) with the current key.`);
});
