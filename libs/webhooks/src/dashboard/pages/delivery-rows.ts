import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import { html, type SafeHtml } from '../html.js';
import { outcome, statusBadge, tableRegion, time, timeText } from './components.js';
import type { PageContext } from './layout.js';

/**
 * The columns of a deliveries table; `subscriptions` adds a column naming each attempt's subscription. Each row's
 * link is named by its visible text (the time) first, then the event, so a voice command can use what is shown.
 */
export function deliveriesTable(
  context: PageContext,
  attempts: readonly WebhookAttempt[],
  options: { id: string; caption: string; empty: string; subscriptions?: ReadonlyMap<string, string> },
): SafeHtml {
  const { subscriptions } = options;
  const rows = attempts.map((a) => {
    const href = `${context.base}/deliveries/${encodeURIComponent(a.id)}`;
    const subscription = subscriptions
      ? html`<td><a href="${context.base}/subscriptions/${encodeURIComponent(a.subscriptionId)}">${subscriptions.get(a.subscriptionId) ?? a.subscriptionId}</a></td>`
      : null;
    return html`<tr>
  <th scope="row"><a href="${href}" aria-label="${`${timeText(a.createdAt)}: delivery of ${a.eventName}`}">${time(a.createdAt)}</a></th>
  <td><code>${a.eventName}</code></td>
  ${subscription}
  <td>${statusBadge(a.status)}</td>
  <td>${outcome(a)}</td>
  <td>${a.tries}</td>
</tr>`;
  });
  const head = ['Created', 'Event', ...(subscriptions ? ['Subscription'] : []), 'Status', 'Response', 'Tries'];
  return tableRegion(options.id, options.caption, head, rows, options.empty);
}
