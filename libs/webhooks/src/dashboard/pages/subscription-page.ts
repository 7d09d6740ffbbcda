import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { redactUrl } from '../../send/redaction.js';
import { type DeliveryHealth, RECENT_ATTEMPTS } from '../delivery-health.js';
import { toDateTimeLocal } from '../deliveries-filter.js';
import { html, type SafeHtml } from '../html.js';
import { actionForm, details, failingSince, milliseconds, subscriptionLabel, subscriptionName, subscriptionStatus, time } from './components.js';
import { deliveriesTable } from './delivery-rows.js';
import { layout, type PageContext } from './layout.js';
import { successRate } from './subscriptions-page.js';

/** What the subscription page shows besides the subscription. */
export interface SubscriptionPageData {
  health: DeliveryHealth;
  /** The recent deliveries the principal may view (of `health.recent`). */
  recent: readonly WebhookAttempt[];
  /** How long the previous secret keeps signing after a rotation. */
  rotationOverlapMs: number;
  /** The default of "recover failed since": a day ago. */
  recoverSince: Date;
}

const list = (values: readonly string[], empty: string): SafeHtml =>
  values.length === 0 ? html`<span class="muted">${empty}</span>` : html`<ul class="inline-list">${values.map((v) => html`<li><code>${v}</code></li>`)}</ul>`;

function overlap(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 1 ? `${+hours.toFixed(1)} ${hours === 1 ? 'hour' : 'hours'}` : `${Math.round(ms / 60_000)} minutes`;
}

/** Why a static subscription offers no activate, deactivate or rotate: the dashboard would change one process only. */
export const STATIC_SUBSCRIPTION_NOTE = 'Declared in code: its state and secret come from each process’s configuration.';

/** Deactivate or activate; for a static subscription, the note saying why not. */
function toggleAction(context: PageContext, s: WebhookSubscription, at: string): SafeHtml {
  if (s.source === 'static') {
    return html`<div class="action">
      <h3>State and signing secret</h3>
      <p class="note">${STATIC_SUBSCRIPTION_NOTE} Change them there.</p>
    </div>`;
  }
  const toggle = s.active
    ? actionForm(`${at}/deactivate`, context.csrf, 'Deactivate', null, 'button button-danger')
    : actionForm(`${at}/activate`, context.csrf, 'Activate');
  return html`<div class="action">
      <h3>${s.active ? 'Stop deliveries' : 'Resume deliveries'}</h3>
      <p>${s.active ? 'Deactivating keeps the history and cancels pending retries.' : 'Activating resets the failure counters.'}</p>
      ${toggle}
    </div>`;
}

function rotateAction(context: PageContext, s: WebhookSubscription, data: SubscriptionPageData, at: string): SafeHtml | null {
  if (s.source === 'static') return null;
  return html`<div class="action">
      <h3>Signing secret</h3>
      <p>The new secret is shown once. The current one keeps signing beside it for ${overlap(data.rotationOverlapMs)}.</p>
      ${actionForm(`${at}/rotate-secret`, context.csrf, 'Rotate secret')}
    </div>`;
}

/**
 * The actions. A static subscription (declared in code) gets the test event and recovery only: they write
 * attempts to the store like any published event, while its state and secret live in each process's memory.
 */
function actions(context: PageContext, s: WebhookSubscription, data: SubscriptionPageData): SafeHtml {
  const at = `${context.base}/subscriptions/${encodeURIComponent(s.id)}`;
  const since = html`<label for="recover-since">Failed since (UTC)</label>
  <input id="recover-since" name="since" type="datetime-local" step="1" required value="${toDateTimeLocal(data.recoverSince)}">`;
  return html`<section aria-labelledby="actions-heading" class="card">
  <h2 id="actions-heading">Actions</h2>
  <div class="actions">
    ${toggleAction(context, s, at)}
    <div class="action">
      <h3>Test the endpoint</h3>
      <p>Sends a <code>webhook.test</code> event to this subscription only.</p>
      ${actionForm(`${at}/test`, context.csrf, 'Send test event')}
    </div>
    ${rotateAction(context, s, data, at)}
    <div class="action">
      <h3>Recover failed deliveries</h3>
      <p>Sends again, oldest first, every delivery that failed at or after this time.</p>
      ${actionForm(`${at}/recover`, context.csrf, 'Recover failed deliveries', since)}
    </div>
  </div>
</section>`;
}

/** One subscription: details (URL credentials masked, header names only), health, actions, recent deliveries. */
export function subscriptionPage(context: PageContext, s: WebhookSubscription, data: SubscriptionPageData): SafeHtml {
  const { health } = data;
  const schedule = s.retrySchedule ? s.retrySchedule.map(milliseconds).join(', ') : 'The module’s schedule';
  const content = html`<p class="breadcrumbs"><a href="${context.base}">Subscriptions</a> › <span>${subscriptionName(s)}</span></p>
<h1>${subscriptionName(s)}</h1>
<div class="columns">
<section aria-labelledby="details-heading" class="card">
  <h2 id="details-heading">Details</h2>
  ${details([
    ['Status', subscriptionStatus(s)],
    ['URL', html`<code class="wrap">${redactUrl(s.url)}</code>`],
    ['Events', list(s.events, 'None')],
    ['Extra headers (names)', list(s.headerNames, 'None')],
    ['Payload type', typeof s.payloadType === 'string' ? s.payloadType : s.payloadType ? s.payloadType.name : 'Any'],
    ['Scope', s.scope ?? 'Global'],
    ['Owner', s.ownerId ?? 'None'],
    ['Dialect', s.dialect ?? 'Default'],
    ['Retry schedule', schedule],
    ['Source', s.source],
    ['ID', html`<code class="wrap">${s.id}</code>`],
    ['Created', time(s.createdAt)],
    ['Updated', time(s.updatedAt)],
  ])}
</section>
<section aria-labelledby="health-heading" class="card">
  <h2 id="health-heading">Health</h2>
  ${details([
    [`Success rate (last ${RECENT_ATTEMPTS})`, successRate(health)],
    ['Last success', time(health.lastSuccessAt)],
    ['Failing since', failingSince(s)],
    ['Recent', `${health.successful} successful, ${health.failed} failed, ${health.pending} pending`],
  ])}
</section>
</div>
${actions(context, s, data)}
<section aria-labelledby="recent-heading">
  <h2 id="recent-heading">Recent deliveries</h2>
  ${deliveriesTable(context, data.recent, { id: 'recent-caption', caption: 'This subscription’s recent deliveries, newest first', empty: 'No deliveries yet.' })}
  <p><a href="${context.base}/deliveries?subscription=${encodeURIComponent(s.id)}">All deliveries of this subscription</a></p>
</section>`;
  return layout(context, subscriptionLabel(s), content);
}
