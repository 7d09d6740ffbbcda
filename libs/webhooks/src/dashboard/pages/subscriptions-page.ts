import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { type DeliveryHealth, RECENT_ATTEMPTS } from '../delivery-health.js';
import { html, type SafeHtml } from '../html.js';
import { failingSince, subscriptionName, subscriptionStatus, tableRegion, time } from './components.js';
import { layout, type PageContext } from './layout.js';

/** A subscription on the overview, with its health. */
export interface SubscriptionRow {
  subscription: WebhookSubscription;
  health: DeliveryHealth;
}

/** "95% (19 of 20)", or why there is no rate yet. */
export function successRate(health: DeliveryHealth): SafeHtml {
  if (health.successRate === null) {
    return html`<span class="muted">${health.pending > 0 ? `${health.pending} pending` : 'No deliveries yet'}</span>`;
  }
  const resolved = health.successful + health.failed;
  return html`${Math.round(health.successRate * 100)}% <span class="muted">(${health.successful} of ${resolved})</span>`;
}

function row(context: PageContext, { subscription: s, health }: SubscriptionRow): SafeHtml {
  const href = `${context.base}/subscriptions/${encodeURIComponent(s.id)}`;
  return html`<tr>
  <th scope="row"><a href="${href}">${subscriptionName(s)}</a><span class="id-line"><br><span class="small mono">${s.id}</span></span></th>
  <td>${subscriptionStatus(s)}</td>
  <td>${successRate(health)}</td>
  <td>${time(health.lastSuccessAt)}</td>
  <td>${failingSince(s)}</td>
  <td>${s.events.join(', ')}</td>
</tr>`;
}

/** One page of the overview: the page's rows, and every visible subscription for the totals. */
export interface SubscriptionsPageData {
  all: readonly WebhookSubscription[];
  rows: readonly SubscriptionRow[];
  page: number;
  pages: number;
}

function pagination(context: PageContext, { page, pages }: SubscriptionsPageData): SafeHtml | null {
  if (pages <= 1) return null;
  const link = (to: number, label: string, rel: string) => html`<li><a href="${context.base}${to === 1 ? '' : `?page=${to}`}" rel="${rel}">${label}</a></li>`;
  return html`<nav aria-label="Pages of subscriptions" class="pagination"><ul>
  ${page > 1 ? link(page - 1, 'Previous subscriptions', 'prev') : null}
  <li>Page ${page} of ${pages}</li>
  ${page < pages ? link(page + 1, 'More subscriptions', 'next') : null}
</ul></nav>`;
}

/** The overview: the subscriptions the principal may see, with their health. */
export function subscriptionsPage(context: PageContext, data: SubscriptionsPageData): SafeHtml {
  const { all } = data;
  const inactive = all.filter((s) => !s.active).length;
  // An inactive subscription gets no deliveries: its last failing-since time says nothing about now.
  const failing = all.filter((s) => s.active && s.failingSince !== null).length;
  const summary =
    all.length === 0
      ? null
      : html`<p class="summary">${all.length} ${all.length === 1 ? 'subscription' : 'subscriptions'}: ${all.length - inactive} active, ${inactive} inactive, ${failing} failing.
  Success rates cover the last ${RECENT_ATTEMPTS} deliveries of each.</p>`;
  const table = tableRegion(
    'subscriptions-caption',
    'Subscriptions and their delivery health',
    // Health first: on a narrow screen the table scrolls, and what matters most stays in view.
    ['Subscription', 'Status', 'Success rate', 'Last success', 'Failing since', 'Events'],
    data.rows.map((r) => row(context, r)),
    all.length === 0 ? 'There are no subscriptions you can see.' : 'No subscriptions on this page.',
  );
  return layout(context, 'Subscriptions', html`<h1>Subscriptions</h1>
${summary}
${table}
${pagination(context, data)}`);
}
