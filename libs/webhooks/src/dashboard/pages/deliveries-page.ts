import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { type DeliveriesFilter, deliveriesQuery, PAGE_SIZES, toDateTimeLocal } from '../deliveries-filter.js';
import { html, type SafeHtml } from '../html.js';
import { subscriptionLabel, subscriptionName } from './components.js';
import { deliveriesTable } from './delivery-rows.js';
import { layout, type PageContext } from './layout.js';

/** One page of the deliveries search. */
export interface DeliveriesPageData {
  filter: DeliveriesFilter;
  attempts: readonly WebhookAttempt[];
  /** The cursor of the next (older) page; `null` on the last page. */
  nextCursor: string | null;
  /** The subscriptions the principal may see, by id (the filter's choices). */
  subscriptions: ReadonlyMap<string, WebhookSubscription>;
}

const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : null}>${label}</option>`;

function filterForm(context: PageContext, data: DeliveriesPageData): SafeHtml {
  const { filter } = data;
  const statuses = [['', 'Any status'], ['pending', 'Pending'], ['successful', 'Successful'], ['failed', 'Failed']] as const;
  return html`<form method="get" action="${context.base}/deliveries" class="filters" aria-labelledby="filters-heading">
  <h2 id="filters-heading" class="visually-hidden">Filters</h2>
  <div class="field">
    <label for="filter-status">Status</label>
    <select id="filter-status" name="status">${statuses.map(([value, label]) => option(value, label, (filter.status ?? '') === value))}</select>
  </div>
  <div class="field">
    <label for="filter-event">Event name</label>
    <input id="filter-event" name="event" type="text" value="${filter.eventName ?? ''}" placeholder="order.created" autocomplete="off">
  </div>
  <div class="field">
    <label for="filter-subscription">Subscription</label>
    <select id="filter-subscription" name="subscription">
      ${option('', 'All subscriptions', !filter.subscriptionId)}
      ${[...data.subscriptions].map(([id, s]) => option(id, subscriptionLabel(s), filter.subscriptionId === id))}
    </select>
  </div>
  <div class="field">
    <label for="filter-since">Created since (UTC)</label>
    <input id="filter-since" name="since" type="datetime-local" step="1" value="${filter.since ? toDateTimeLocal(filter.since) : ''}">
  </div>
  <div class="field">
    <label for="filter-until">Created before (UTC)</label>
    <input id="filter-until" name="until" type="datetime-local" step="1" value="${filter.until ? toDateTimeLocal(filter.until) : ''}">
  </div>
  <div class="field">
    <label for="filter-limit">Per page</label>
    <select id="filter-limit" name="limit">${PAGE_SIZES.map((size) => option(String(size), String(size), filter.limit === size))}</select>
  </div>
  <div class="field field-buttons">
    <button type="submit" class="button">Apply filters</button>
    <a href="${context.base}/deliveries" class="button button-quiet">Clear filters</a>
  </div>
</form>`;
}

function pagination(context: PageContext, data: DeliveriesPageData): SafeHtml | null {
  const { filter, nextCursor } = data;
  if (!filter.before && !nextCursor) return null;
  const newest = filter.before ? html`<li><a href="${context.base}/deliveries${deliveriesQuery(filter, { before: undefined })}">Newest deliveries</a></li>` : null;
  const older = nextCursor ? html`<li><a href="${context.base}/deliveries${deliveriesQuery(filter, { before: nextCursor })}" rel="next">Older deliveries</a></li>` : null;
  return html`<nav aria-label="Pages of deliveries" class="pagination"><ul>${newest}${older}</ul></nav>`;
}

/** Deliveries across the principal's subscriptions, newest first, with filters and a cursor. */
export function deliveriesPage(context: PageContext, data: DeliveriesPageData): SafeHtml {
  const filtered = data.filter.status || data.filter.eventName || data.filter.subscriptionId || data.filter.since || data.filter.until;
  const table = deliveriesTable(context, data.attempts, {
    id: 'deliveries-caption',
    caption: data.filter.before ? 'Deliveries, newest first (older page)' : 'Deliveries, newest first',
    empty: filtered ? 'No deliveries match these filters.' : 'No deliveries yet.',
    subscriptions: new Map([...data.subscriptions].map(([id, s]) => [id, subscriptionName(s)])),
  });
  return layout(context, 'Deliveries', html`<h1>Deliveries</h1>
${filterForm(context, data)}
${table}
${pagination(context, data)}`);
}
