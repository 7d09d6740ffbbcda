import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import { html, type SafeHtml } from '../html.js';
import type { RevealedSecret } from '../one-time-secret.js';
import { subscriptionName, time } from './components.js';
import { layout, type PageContext } from './layout.js';

/** The result of a rotation: the new secret once, or (on any later visit) a note that it is gone. */
export function secretPage(context: PageContext, s: WebhookSubscription, revealed: RevealedSecret | null): SafeHtml {
  const back = `${context.base}/subscriptions/${encodeURIComponent(s.id)}`;
  const body = revealed
    ? html`<div class="card secret-card">
  <p><strong>Copy this secret now: it is shown only this once.</strong> Give it to the receiver; it verifies deliveries with it.</p>
  <p><label for="new-secret">New signing secret</label></p>
  <output id="new-secret" class="secret" data-copy>${revealed.secret}</output>
  <p>The previous secret keeps signing beside it until ${time(revealed.previousUntil)}.</p>
</div>`
    : html`<div class="card">
  <p>The new secret was shown once and is not shown again. If it was not copied, rotate the secret again.</p>
</div>`;
  return layout(context, 'New signing secret', html`<p class="breadcrumbs"><a href="${context.base}">Subscriptions</a> › <a href="${back}">${subscriptionName(s)}</a></p>
<h1>New signing secret</h1>
${body}
<p><a href="${back}">Back to the subscription</a></p>`);
}
