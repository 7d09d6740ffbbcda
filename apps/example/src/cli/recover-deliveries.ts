import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { NestFactory } from '@nestjs/core';
import ms from 'ms';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { AppModule } from '../app.module.js';
import { ConfigError, loadAppConfig } from '../config/app-config.js';
import { ProgressReporter } from './progress-reporter.js';

const USAGE = 'usage: npm run webhooks:recover -- --since <ISO time | duration such as 2h> [--subscription <id>]...';

/** `--since 2026-12-05T10:00:00Z` or `--since 90m` (that long ago). */
function parseSince(value: string, now = Date.now()): Date {
  const ago = ms(value as ms.StringValue);
  if (typeof ago === 'number' && Number.isFinite(ago) && ago > 0) return new Date(now - ago);
  const at = new Date(value);
  if (Number.isNaN(at.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) throw new ConfigError(`--since "${value}" is neither an ISO time nor a duration. ${USAGE}`);
  return at;
}

/**
 * `npm run webhooks:recover`: after an outage, sends again every delivery that failed since a time, for the given
 * subscriptions or every active one, each with its original `webhook-id`; the workers send them. Prints progress.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { since: { type: 'string' }, subscription: { type: 'string', multiple: true } }, strict: true });
  if (!values.since) throw new ConfigError(`--since is required. ${USAGE}`);
  const since = parseSince(values.since);
  const config = loadAppConfig();
  if (!config.secretKey || !config.apiKeys) throw new ConfigError('set WEBHOOKS_SECRET_KEY and WEBHOOKS_API_KEYS');
  const context = await NestFactory.createApplicationContext(
    AppModule.register({ config, apiKeys: config.apiKeys, secretKey: config.secretKey, delivery: { worker: false } }),
    { logger: ['error', 'warn'] },
  );
  try {
    const subscriptions = context.get(WebhookSubscriptionManager);
    const delivery = context.get(WebhookDeliveryManager);
    const ids = values.subscription ?? (await subscriptions.list({ source: 'persistent' })).filter((s) => s.active).map((s) => s.id);
    console.log(`Recovering deliveries that failed since ${since.toISOString()} for ${ids.length} subscription(s).`);
    let total = 0;
    for (const id of ids) {
      const progress = new ProgressReporter(`Subscription ${id}`);
      let last = { done: 0, total: 0 };
      let recovered: Awaited<ReturnType<typeof delivery.recoverFailedAttempts>>;
      try {
        recovered = await delivery.recoverFailedAttempts(id, since, {
          onProgress: (p) => {
            last = p;
            progress.update(p.done, p.total);
          },
        });
      } catch (error) {
        progress.abort();
        throw error;
      }
      progress.finish(last.done, last.total);
      total += recovered.length;
    }
    console.log(`Queued ${total} delivery(ies) again; the workers send them.`);
  } finally {
    await context.close();
  }
}

main().catch((error: unknown) => {
  console.error(`${error instanceof ConfigError ? 'Configuration error' : 'Recovery failed'}: ${(error as Error).message}`);
  process.exit(1);
});
