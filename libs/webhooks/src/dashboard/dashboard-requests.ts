import type { ServerResponse } from 'node:http';
import { ForbiddenException, Inject, Injectable } from '@nestjs/common';
import type { WebhookPrincipal } from '../access/webhook-access.policy.js';
import { DASHBOARD_OPTIONS } from './dashboard.constants.js';
import type { ResolvedDashboardOptions } from './dashboard.options.js';
import { dashboardBase, type DashboardIncoming, DashboardExchange } from './dashboard-exchange.js';
import { checkCsrf, csrfToken } from './csrf.js';
import { DashboardKeys } from './dashboard-keys.js';
import { takeFlash } from './flash.js';
import type { PageContext } from './pages/layout.js';

/** A page request, ready to render: who asks, and what the layout needs. */
export interface PageRequest {
  exchange: DashboardExchange;
  principal: WebhookPrincipal;
  context: PageContext;
}

/** A form action, checked: who asks, and the form's fields. */
export interface ActionRequest {
  exchange: DashboardExchange;
  principal: WebhookPrincipal;
  form: URLSearchParams;
}

/** Opens every dashboard request the same way: its exchange, its principal (403 without one), its CSRF check. */
@Injectable()
export class DashboardRequests {
  constructor(
    @Inject(DASHBOARD_OPTIONS) private readonly options: ResolvedDashboardOptions,
    /** The server keys: form tokens, sealed cookies. */
    readonly keys: DashboardKeys,
  ) {}

  exchange(request: DashboardIncoming, response: ServerResponse): DashboardExchange {
    return new DashboardExchange(request, response, dashboardBase(request, this.options.path));
  }

  async page(request: DashboardIncoming, response: ServerResponse, section: PageContext['section']): Promise<PageRequest> {
    const exchange = this.exchange(request, response);
    const principal = await this.principal(exchange);
    return { exchange, principal, context: this.context(exchange, section, csrfToken(exchange, this.keys, principal)) };
  }

  async action(request: DashboardIncoming, response: ServerResponse): Promise<ActionRequest> {
    const exchange = this.exchange(request, response);
    const principal = await this.principal(exchange);
    const form = await exchange.form();
    checkCsrf(exchange, this.keys, principal, form);
    return { exchange, principal, form };
  }

  /** The layout's context; `csrf` is empty on pages shown without a principal (errors). */
  context(exchange: DashboardExchange, section: PageContext['section'], csrf = ''): PageContext {
    const { title, logoutUrl } = this.options;
    return { title, base: exchange.base, csrf, flash: csrf ? takeFlash(exchange) : null, logoutUrl, section };
  }

  get loginUrl(): string | null {
    return this.options.loginUrl;
  }

  private async principal(exchange: DashboardExchange): Promise<WebhookPrincipal> {
    const principal = await this.options.principal(exchange.request);
    if (!principal || typeof principal.id !== 'string') throw new ForbiddenException('You may not see the webhook dashboard.');
    return principal;
  }
}
