import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WebhookStore } from 'nest-webhooks/extensions';
import { AppModule } from '../app.module.js';
import { ConfigError, loadAppConfig } from '../config/app-config.js';
import { ProgressReporter } from './progress-reporter.js';

/**
 * `npm run secrets:reencrypt`: after setting a new WEBHOOKS_SECRET_KEY and moving the old one to
 * WEBHOOKS_PREVIOUS_SECRET_KEYS, re-encrypts every stored signing secret with the new key, printing progress.
 * Afterwards the old key can be removed. Deliveries keep working throughout (both keys decrypt).
 */
async function main(): Promise<void> {
  const config = loadAppConfig();
  if (!config.secretKey || !config.apiKeys) throw new ConfigError('set WEBHOOKS_SECRET_KEY (the new key) and WEBHOOKS_API_KEYS');
  const context = await NestFactory.createApplicationContext(
    AppModule.register({ config, apiKeys: config.apiKeys, secretKey: config.secretKey, delivery: { worker: false } }),
    { logger: ['error', 'warn'] },
  );
  try {
    const progress = new ProgressReporter('Subscriptions checked');
    let last = { done: 0, total: 0 };
    let changed: number;
    try {
      changed = await context.get(WebhookStore).reencryptSecrets((p) => {
        last = p;
        progress.update(p.done, p.total);
      });
    } catch (error) {
      progress.abort();
      throw error;
    }
    progress.finish(last.done, last.total);
    console.log(`Re-encrypted the signing secrets of ${changed} subscription(s) with the current key.`);
  } finally {
    await context.close();
  }
}

main().catch((error: unknown) => {
  console.error(`${error instanceof ConfigError ? 'Configuration error' : 'Re-encryption failed'}: ${(error as Error).message}`);
  process.exit(1);
});
