import type { WebhookAttempt, WebhookAttemptStatus } from '../../core/webhook-attempt.js';
import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { redactUrl } from '../../send/redaction.js';
import { CSRF_FIELD } from '../csrf.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';

/** A time in UTC as the pages write it: `2026-01-31 14:30:00 UTC`. */
export function timeText(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** A time in UTC, readable and machine-readable. */
export function time(date: Date | null | undefined, empty = 'Never'): SafeHtml {
  if (!date) return html`<span class="muted">${empty}</span>`;
  return html`<time datetime="${date.toISOString()}">${timeText(date)}</time>`;
}

const STATUS_LABELS: Record<WebhookAttemptStatus, { label: string; symbol: string }> = {
  successful: { label: 'Successful', symbol: '✓' },
  failed: { label: 'Failed', symbol: '✕' },
  pending: { label: 'Pending', symbol: '…' },
};

/** An attempt's status: the word says it, the colour and symbol only repeat it. */
export function statusBadge(status: WebhookAttemptStatus): SafeHtml {
  const { label, symbol } = STATUS_LABELS[status];
  return html`<span class="badge badge-${status}"><span aria-hidden="true">${symbol}</span> ${label}</span>`;
}

/** A subscription's state, and its status message when that says more than the state (why it was suspended). */
export function subscriptionStatus(subscription: WebhookSubscription): SafeHtml {
  const message = subscription.statusMessage;
  const plain = message === (subscription.active ? 'Active' : 'Deactivated');
  return html`${activeBadge(subscription.active)}${plain ? null : html` <span class="status-message">${message}</span>`}`;
}

export function activeBadge(active: boolean): SafeHtml {
  return active
    ? html`<span class="badge badge-active"><span aria-hidden="true">●</span> Active</span>`
    : html`<span class="badge badge-inactive"><span aria-hidden="true">○</span> Inactive</span>`;
}

/** Since when every delivery has failed, for an active subscription; an inactive one is not failing, it is off. */
export function failingSince(subscription: WebhookSubscription): SafeHtml {
  return subscription.active ? time(subscription.failingSince, 'Not failing') : html`<span class="muted">—</span>`;
}

/** What a subscription is called on the pages: its description, else its URL's host and path (credentials masked). */
export function subscriptionName(subscription: WebhookSubscription): string {
  if (subscription.description) return subscription.description;
  try {
    const url = new URL(redactUrl(subscription.url));
    return `${url.host}${url.pathname === '/' ? '' : url.pathname}`;
  } catch {
    return subscription.id;
  }
}

/**
 * A subscription's name where text leaves the page (the `<title>` goes to history and bookmarks) or is read out
 * of context (a list of choices): its description, else its URL's host only. Receivers such as Slack and Discord
 * put the secret in the URL's path.
 */
export function subscriptionLabel(subscription: WebhookSubscription): string {
  if (subscription.description) return subscription.description;
  try {
    return new URL(subscription.url).host;
  } catch {
    return subscription.id;
  }
}

/** The outcome of an attempt's last try in a few characters: an HTTP status, an error code, or nothing yet. */
export function outcome(attempt: WebhookAttempt): string {
  if (attempt.response) return String(attempt.response.statusCode);
  const last = attempt.history.at(-1);
  return last?.errorCode ?? (last?.statusCode ? String(last.statusCode) : '—');
}

export function milliseconds(value: number): string {
  return `${Math.round(value).toLocaleString('en')} ms`;
}

/** A POST form with the CSRF field and one submit button. */
export function actionForm(action: string, csrf: string, button: string, fields: HtmlValue = null, buttonClass = 'button'): SafeHtml {
  return html`<form method="post" action="${action}" class="action-form">
  <input type="hidden" name="${CSRF_FIELD}" value="${csrf}">
  ${fields}<button type="submit" class="${buttonClass}">${button}</button>
</form>`;
}

/** A table in a region that scrolls sideways on its own (keyboard-focusable), so the page never does. */
export function tableRegion(id: string, caption: string, head: readonly string[], rows: readonly SafeHtml[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="empty" id="${id}">${empty}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="${id}" tabindex="0">
<table>
  <caption id="${id}">${caption}</caption>
  <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
  <tbody>${rows}</tbody>
</table>
</div>`;
}

/** A description list of label → value pairs. */
export function details(pairs: ReadonlyArray<readonly [string, HtmlValue]>): SafeHtml {
  return html`<dl class="details">${pairs.map(([label, value]) => html`<div><dt>${label}</dt><dd>${value}</dd></div>`)}</dl>`;
}

/**
 * `body` indented, when it is compact JSON that reads back exactly as it was: a number beyond double precision,
 * a repeated key or an escape would change on the way through `JSON.parse`, and then the body is shown as sent.
 */
function indentedJson(body: string): string | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' && JSON.stringify(parsed) === body.trim() ? JSON.stringify(parsed, null, 2) : null;
  } catch {
    return null; // not JSON
  }
}

/** A body as stored: compact JSON is indented when that loses nothing; anything else is shown as it was sent. */
export function bodyBlock(id: string, label: string, body: string): SafeHtml {
  if (body === '') return html`<p class="muted">Empty body.</p>`;
  // A region that scrolls on its own, so it is focusable; a region is named (a bare <pre> may not take aria-label).
  return html`<pre class="body" id="${id}" role="region" aria-label="${label}" tabindex="0"><code>${indentedJson(body) ?? body}</code></pre>`;
}

/** Header names and values as recorded (the library redacted the sensitive ones before storing them). */
export function headersTable(id: string, caption: string, headers: Readonly<Record<string, string>>): SafeHtml {
  const rows = Object.entries(headers).map(([name, value]) => html`<tr><th scope="row"><code>${name}</code></th><td><code>${value}</code></td></tr>`);
  return tableRegion(id, caption, ['Name', 'Value'], rows, 'No headers recorded.');
}
