import type { WebhookAttempt } from '../../core/webhook-attempt.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { redactUrl } from '../../send/redaction.js';
import { html, type SafeHtml } from '../html.js';
import { actionForm, bodyBlock, details, headersTable, milliseconds, statusBadge, subscriptionName, tableRegion, time } from './components.js';
import { layout, type PageContext } from './layout.js';

function request(a: WebhookAttempt): SafeHtml {
  if (!a.request) return html`<p class="muted">Not sent yet: no request was recorded.</p>`;
  const r = a.request;
  return html`${details([
    ['Method', r.method],
    ['URL', html`<code class="wrap">${redactUrl(r.url)}</code>`],
    ['Sent', time(r.sentAt)],
  ])}
${headersTable('request-headers-caption', 'Request headers (sensitive values redacted)', r.headers)}
<h3>Request body</h3>
${bodyBlock('request-body', 'Request body', r.body)}`;
}

function response(a: WebhookAttempt): SafeHtml {
  if (!a.response) return html`<p class="muted">No response was received${a.history.length > 0 ? ': see the tries below for the error' : ''}.</p>`;
  const r = a.response;
  const truncated = r.truncated ? html`<strong>Yes</strong>: the body was longer than the stored limit and was cut` : 'No';
  return html`${details([
    ['Status', `${r.statusCode} ${r.reason}`],
    ['Time taken', milliseconds(r.elapsedMs)],
    ['Received', time(r.receivedAt)],
    ['Body truncated', truncated],
  ])}
${headersTable('response-headers-caption', 'Response headers', r.headers)}
<h3>Response body</h3>
${bodyBlock('response-body', 'Response body', r.body)}`;
}

function tries(a: WebhookAttempt): SafeHtml {
  const rows = a.history.map(
    (t) => html`<tr>
  <th scope="row">${t.number}</th>
  <td>${time(t.startedAt)}</td>
  <td>${milliseconds(t.elapsedMs)}</td>
  <td>${t.statusCode !== null ? String(t.statusCode) : (t.errorCode ?? '—')}</td>
  <td>${t.message}</td>
</tr>`,
  );
  return tableRegion('tries-caption', 'Every try of this delivery, first to last', ['Try', 'Started', 'Time taken', 'Status or error', 'Message'], rows, 'No tries yet.');
}

/** One delivery: its state, the request as sent (redacted), the capped response, every try, and "redeliver". */
export function deliveryPage(context: PageContext, a: WebhookAttempt, subscription: WebhookSubscription | null): SafeHtml {
  const at = `${context.base}/deliveries/${encodeURIComponent(a.id)}`;
  const subscriptionLink = subscription
    ? html`<a href="${context.base}/subscriptions/${encodeURIComponent(subscription.id)}">${subscriptionName(subscription)}</a>`
    : html`<code>${a.subscriptionId}</code>`;
  const pendingNote =
    a.status === 'pending' ? html`<p class="note">This delivery is still pending: it is retried on its own schedule, so it cannot be redelivered yet.</p>` : null;
  const content = html`<p class="breadcrumbs"><a href="${context.base}/deliveries">Deliveries</a> › <span>${a.eventName}</span></p>
<h1>Delivery of <code>${a.eventName}</code></h1>
<div class="columns">
<section aria-labelledby="summary-heading" class="card">
  <h2 id="summary-heading">Summary</h2>
  ${details([
    ['Status', statusBadge(a.status)],
    ['Message', a.message ?? '—'],
    ['Subscription', subscriptionLink],
    ['Tries', String(a.tries)],
    ['Created', time(a.createdAt)],
    ['Last change', time(a.updatedAt)],
    ...(a.nextAttemptAt ? ([['Next try', time(a.nextAttemptAt)]] as const) : []),
    ['Attempt ID', html`<code class="wrap">${a.id}</code>`],
    ['webhook-id', html`<code class="wrap">${a.webhookId}</code>`],
  ])}
</section>
<section aria-labelledby="redeliver-heading" class="card">
  <h2 id="redeliver-heading">Redeliver</h2>
  <p>Sends the same body again as a new delivery with the same <code>webhook-id</code>, so the receiver can spot the duplicate.</p>
  ${pendingNote}
  ${actionForm(`${at}/redeliver`, context.csrf, 'Redeliver')}
</section>
</div>
<section aria-labelledby="request-heading">
  <h2 id="request-heading">Request</h2>
  ${request(a)}
</section>
<section aria-labelledby="response-heading">
  <h2 id="response-heading">Response</h2>
  ${response(a)}
</section>
<section aria-labelledby="tries-heading">
  <h2 id="tries-heading">Tries</h2>
  ${tries(a)}
</section>`;
  return layout(context, `Delivery of ${a.eventName}`, content);
}
