import type { ServerResponse } from 'node:http';
import { BadRequestException, Get, Inject, Injectable, NotFoundException, Param, Query, Req, Res } from '@nestjs/common';
import { WebhookClock } from '../core/clock.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { DashboardAccess } from './dashboard-access.js';
import type { DashboardIncoming } from './dashboard-exchange.js';
import { DashboardRequests } from './dashboard-requests.js';
import { parseDeliveriesFilter } from './deliveries-filter.js';
import { DashboardHealth } from './delivery-health.js';
import { takeOneView } from './one-time-secret.js';
import { deliveriesPage } from './pages/deliveries-page.js';
import { deliveryPage } from './pages/delivery-page.js';
import { secretPage } from './pages/secret-page.js';
import { subscriptionPage } from './pages/subscription-page.js';
import { subscriptionsPage } from './pages/subscriptions-page.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Health is read for this many subscriptions at a time (a database pool is not flooded by one page). */
const HEALTH_BATCH = 8;
/** The overview reads the health of this many subscriptions per page (one or two queries each). */
const SUBSCRIPTIONS_PER_PAGE = 50;

/**
 * The dashboard's pages (GET), each scoped to the principal. `dashboardControllers` mounts a subclass at the
 * configured path; this class carries the routes.
 */
@Injectable()
export class DashboardPagesRoutes {
  constructor(
    private readonly requests: DashboardRequests,
    private readonly access: DashboardAccess,
    private readonly health: DashboardHealth,
    private readonly clock: WebhookClock,
    @Inject(WEBHOOKS_OPTIONS) private readonly webhooks: ResolvedWebhooksOptions,
  ) {}

  /** The overview: the principal's subscriptions with their health, `SUBSCRIPTIONS_PER_PAGE` at a time. */
  @Get()
  async overview(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Query('page') pageParam: unknown): Promise<void> {
    const { exchange, principal, context } = await this.requests.page(request, response, 'subscriptions');
    const page = pageParam === undefined ? 1 : Number(pageParam);
    if (!Number.isSafeInteger(page) || page < 1) throw new BadRequestException('page must be a whole number from 1');
    const visible = (await this.access.subscriptions(principal)).list;
    const shown = visible.slice((page - 1) * SUBSCRIPTIONS_PER_PAGE, page * SUBSCRIPTIONS_PER_PAGE);
    const rows = [];
    for (let i = 0; i < shown.length; i += HEALTH_BATCH) {
      const batch = shown.slice(i, i + HEALTH_BATCH);
      rows.push(...(await Promise.all(batch.map(async (subscription) => ({ subscription, health: await this.health.of(subscription.id) })))));
    }
    exchange.page(200, subscriptionsPage(context, { all: visible, rows, page, pages: Math.max(1, Math.ceil(visible.length / SUBSCRIPTIONS_PER_PAGE)) }));
  }

  @Get('subscriptions/:id')
  async subscription(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    const { exchange, principal, context } = await this.requests.page(request, response, 'subscriptions');
    const subscription = await this.access.subscription(principal, id, 'view');
    const health = await this.health.of(subscription.id);
    const data = {
      health,
      // A custom policy may hide some of a subscription's attempts from a principal who sees the subscription.
      recent: this.access.visibleAttempts(principal, health.recent, new Map([[subscription.id, subscription]])),
      rotationOverlapMs: this.webhooks.secrets.rotationOverlapMs,
      recoverSince: new Date(Math.floor((this.clock.now().getTime() - DAY_MS) / 1000) * 1000),
    };
    exchange.page(200, subscriptionPage(context, subscription, data));
  }

  /** The result page of a rotation: shows the new secret once (see `one-time-secret.ts`). */
  @Get('subscriptions/:id/secret')
  async secret(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    const { exchange, principal, context } = await this.requests.page(request, response, 'subscriptions');
    const subscription = await this.access.subscription(principal, id, 'update');
    exchange.page(200, secretPage(context, subscription, takeOneView(exchange, this.requests.keys, subscription.id, principal)));
  }

  /** Deliveries across the principal's subscriptions: filters, newest first, a cursor to older pages. */
  @Get('deliveries')
  async deliveries(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Query() query: Record<string, unknown>): Promise<void> {
    const { exchange, principal, context } = await this.requests.page(request, response, 'deliveries');
    const filter = parseDeliveriesFilter(query);
    const visible = await this.access.subscriptions(principal);
    const byId = new Map(visible.list.map((s) => [s.id, s]));
    // A subscription the principal may not see answers like one that does not exist.
    if (filter.subscriptionId !== undefined && !byId.has(filter.subscriptionId)) throw new NotFoundException();
    const found = await this.access.searchAttempts(
      visible,
      { status: filter.status, eventName: filter.eventName, since: filter.since, until: filter.until, before: filter.before, limit: filter.limit + 1 },
      filter.subscriptionId !== undefined ? [filter.subscriptionId] : undefined,
    );
    const page = found.slice(0, filter.limit);
    exchange.page(
      200,
      deliveriesPage(context, {
        filter,
        attempts: this.access.visibleAttempts(principal, page, byId),
        nextCursor: found.length > filter.limit ? page.at(-1)!.id : null,
        subscriptions: byId,
      }),
    );
  }

  @Get('deliveries/:id')
  async attempt(@Req() request: DashboardIncoming, @Res() response: ServerResponse, @Param('id') id: string): Promise<void> {
    const { exchange, principal, context } = await this.requests.page(request, response, 'deliveries');
    const attempt = await this.access.attempt(principal, id, 'view');
    // Seeing an attempt does not always mean seeing its subscription (a custom policy may grant one without the other).
    exchange.page(200, deliveryPage(context, attempt, await this.access.viewable(principal, attempt.subscriptionId)));
  }

  /**
   * Any other path below the dashboard: the dashboard's 404 page with its headers, not the application's JSON.
   * Declared last, so every other route comes first.
   */
  @Get('*path')
  notFound(): never {
    throw new NotFoundException();
  }
}
