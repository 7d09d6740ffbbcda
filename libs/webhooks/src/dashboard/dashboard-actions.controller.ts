import type { ServerResponse } from 'node:http';
import { BadRequestException, Inject, Injectable, Param, Post, Req, Res } from '@nestjs/common';
import { WebhookClock } from '../core/clock.js';
import { InvalidWebhookSubscriptionError, WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookDeliveryManager } from '../operations/webhook-delivery.manager.js';
import { WebhookPublisher } from '../publish/webhook-publisher.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import { DashboardAccess } from './dashboard-access.js';
import type { DashboardIncoming } from './dashboard-exchange.js';
import { type ActionRequest, DashboardRequests } from './dashboard-requests.js';
import { parseUtcDateTime } from './deliveries-filter.js';
import { type Flash, setFlash } from './flash.js';
import { keepForOneView, secretPath } from './one-time-secret.js';
import { STATIC_SUBSCRIPTION_NOTE } from './pages/subscription-page.js';

/** The event "Send test event" publishes. */
export const DASHBOARD_TEST_EVENT = 'webhook.test';

/** What an action did: the message to show, and where to show it (default: the subscription's page). */
interface ActionResult {
  flash: Flash;
  location?: string;
}

/** Refusals an action explains on the page it came from, rather than as an error page. */
const isRefusal = (error: unknown) =>
  error instanceof WebhookSubscriptionOperationError || error instanceof InvalidWebhookSubscriptionError || error instanceof BadRequestException;

/**
 * A static subscription's state and secret are each process's own: changed here, they would change in the
 * serving process only, until its next restart.
 */
function refuseStatic(subscription: WebhookSubscription): void {
  if (subscription.source === 'static') throw new WebhookSubscriptionOperationError(`${STATIC_SUBSCRIPTION_NOTE} Change them there.`);
}

/**
 * The dashboard's actions: POST forms with the CSRF field, answered by a redirect to a page with a message
 * (POST/redirect/GET). Each checks that the principal may update what it acts on (404 otherwise).
 */
@Injectable()
export class DashboardActionsRoutes {
  constructor(
    private readonly requests: DashboardRequests,
    private readonly access: DashboardAccess,
    private readonly delivery: WebhookDeliveryManager,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly publisher: WebhookPublisher,
    private readonly clock: WebhookClock,
    @Inject(WEBHOOKS_OPTIONS) private readonly webhooks: ResolvedWebhooksOptions,
  ) {}

  @Post('subscriptions/:id/activate')
  activate(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    return this.onSubscription(request, response, id, async (s) => {
      refuseStatic(s);
      const changed = await this.subscriptions.activate(s.id);
      return { flash: { kind: 'success', text: changed ? 'The subscription is active: it receives events again.' : 'The subscription was already active.' } };
    });
  }

  @Post('subscriptions/:id/deactivate')
  deactivate(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    return this.onSubscription(request, response, id, async (s) => {
      refuseStatic(s);
      const changed = await this.subscriptions.deactivate(s.id);
      return { flash: { kind: 'success', text: changed ? 'The subscription is inactive: it receives no events, and its pending retries were cancelled.' : 'The subscription was already inactive.' } };
    });
  }

  @Post('subscriptions/:id/test')
  test(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    return this.onSubscription(request, response, id, async (s, { exchange }) => {
      const attempt = await this.publisher.publishTo(s.id, DASHBOARD_TEST_EVENT, {
        subscriptionId: s.id,
        message: 'This is a test event from the nest-webhooks dashboard.',
      });
      const link = { href: `${exchange.base}/deliveries/${encodeURIComponent(attempt.id)}`, label: 'See the delivery' };
      return { flash: { kind: 'success', text: `A ${DASHBOARD_TEST_EVENT} event is on its way.`, link } };
    });
  }

  @Post('subscriptions/:id/rotate-secret')
  rotateSecret(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    return this.onSubscription(request, response, id, async (s, { exchange, principal }) => {
      refuseStatic(s);
      const overlapMs = this.webhooks.secrets.rotationOverlapMs;
      const { secret } = await this.subscriptions.rotateSecret(s.id, overlapMs);
      const previousUntil = new Date(this.clock.now().getTime() + overlapMs);
      keepForOneView(exchange, this.requests.keys, s.id, principal, { secret, previousUntil });
      return { flash: { kind: 'success', text: 'The signing secret was rotated.' }, location: exchange.base + secretPath(s.id) };
    });
  }

  @Post('subscriptions/:id/recover')
  recover(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    return this.onSubscription(request, response, id, async (s, { exchange, form }) => {
      const since = parseUtcDateTime(form.get('since') ?? '', 'Failed since');
      const recovered = await this.delivery.recoverFailedAttempts(s.id, since);
      const when = `${since.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
      const text =
        recovered.length === 0
          ? `No delivery failed since ${when}: nothing to send again.`
          : `${recovered.length} failed ${recovered.length === 1 ? 'delivery is' : 'deliveries are'} sent again (failed since ${when}), with their original webhook-id.`;
      const link = { href: `${exchange.base}/deliveries?subscription=${encodeURIComponent(s.id)}`, label: 'See the deliveries' };
      return { flash: { kind: 'success', text, ...(recovered.length > 0 ? { link } : {}) } };
    });
  }

  @Post('deliveries/:id/redeliver')
  async redeliver(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    const { exchange, principal } = await this.requests.action(request, response);
    const attempt = await this.access.attempt(principal, id, 'update');
    const here = `${exchange.base}/deliveries/${encodeURIComponent(attempt.id)}`;
    try {
      const created = await this.delivery.redeliver(attempt.id);
      const location = `${exchange.base}/deliveries/${encodeURIComponent(created.id)}`;
      setFlash(exchange, { kind: 'success', text: `Redelivered with the same webhook-id (${created.webhookId}). This is the new delivery.`, link: { href: here, label: 'See the original' } });
      exchange.redirect(location);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      setFlash(exchange, { kind: 'error', text: (error as Error).message });
      exchange.redirect(here);
    }
  }

  /** Checks the form and the principal's right to update the subscription, runs `act`, and redirects with its message. */
  private async onSubscription(
    request: DashboardIncoming,
    response: ServerResponse,
    id: string,
    act: (subscription: WebhookSubscription, action: ActionRequest) => Promise<ActionResult>,
  ): Promise<void> {
    const action = await this.requests.action(request, response);
    const { exchange, principal } = action;
    const subscription = await this.access.subscription(principal, id, 'update');
    const page = `${exchange.base}/subscriptions/${encodeURIComponent(subscription.id)}`;
    let result: ActionResult;
    try {
      result = await act(subscription, action);
    } catch (error) {
      if (!isRefusal(error)) throw error;
      const message = error instanceof BadRequestException ? String((error.getResponse() as { message?: unknown }).message ?? error.message) : (error as Error).message;
      result = { flash: { kind: 'error', text: message } };
    }
    setFlash(exchange, result.flash);
    exchange.redirect(result.location ?? page);
  }
}
