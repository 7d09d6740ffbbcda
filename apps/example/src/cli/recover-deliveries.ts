import { parseArgs } from 'node:util';
import ms from 'ms';
import { WebhookDeliveryManager, WebhookSubscriptionManager } from 'nest-webhooks';
import { ConfigError } from '../config/app-config.js';
import { runOperatorCommand } from './operator-command.js';
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
runOperatorCommand('Recovery failed', () => {
  const { values } = parseArgs({ options: { since: { type: 'string' }, subscription: { type: 'string', multiple: true } }, strict: true });
  if (!values.since) throw new ConfigError(`--since is required. ${USAGE}`);
  const since = parseSince(values.since);
  return async (context) => {
    const delivery = context.get(WebhookDeliveryManager);
    const ids = values.subscription ?? (await context.get(WebhookSubscriptionManager).list({ source: 'persistent' })).filter((s) => s.active).map((s) => s.id);
    console.log(`Recovering deliveries that failed since ${since.toISOString()} for ${ids.length} subscription(s).`);
    let total = 0;
    for (const id of ids) {
      const recovered = await new ProgressReporter(`Subscription ${id}`).track((onProgress) => delivery.recoverFailedAttempts(id, since, { onProgress }));
      total += recovered.length;
    }
    console.log(`Queued ${total} delivery(ies) again; the workers send them.`);
  };
});
