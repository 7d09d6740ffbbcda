import type { ServerResponse } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable, Logger } from '@nestjs/common';
import { WebhookAttemptNotFoundError } from '../core/delivery.errors.js';
import { WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { DashboardIncoming } from './dashboard-exchange.js';
import { DashboardRequests } from './dashboard-requests.js';
import { errorPage } from './pages/error-page.js';

/** The status and the sentence shown for an error (`null`: the page's default sentence). */
function describe(error: unknown): { status: number; message: string | null } {
  if (error instanceof WebhookSubscriptionNotFoundError || error instanceof WebhookAttemptNotFoundError) return { status: 404, message: null };
  if (error instanceof WebhookSubscriptionOperationError) return { status: 409, message: error.message };
  if (!(error instanceof HttpException)) return { status: 500, message: null };
  const status = error.getStatus();
  if (status === 404) return { status, message: null };
  if (status === 401) return { status, message: 'Sign in to see the webhook dashboard.' };
  const response = error.getResponse();
  const message = typeof response === 'string' ? response : (response as { message?: unknown }).message;
  return { status, message: Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : null };
}

/**
 * Every error of a dashboard route (its guard's included) as an HTML page with the dashboard's security headers,
 * never a JSON body or a stack trace. A page the guard refuses with 401 redirects to `loginUrl` when one is set.
 */
@Catch()
@Injectable()
export class DashboardErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('WebhooksDashboard');

  constructor(private readonly requests: DashboardRequests) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<ServerResponse>();
    if (response.headersSent) {
      response.end();
      return;
    }
    const exchange = this.requests.exchange(http.getRequest<DashboardIncoming>(), response);
    const { status, message } = describe(error);
    if (status >= 500) this.logger.error(`Dashboard page ${exchange.request.method} ${exchange.url} failed: ${(error as Error)?.stack ?? String(error)}`);
    const loginUrl = this.requests.loginUrl;
    if (status === 401 && loginUrl && exchange.request.method === 'GET') {
      exchange.redirect(`${loginUrl}${loginUrl.includes('?') ? '&' : '?'}next=${encodeURIComponent(exchange.url)}`);
      return;
    }
    exchange.page(status, errorPage(this.requests.context(exchange, null), status, message));
  }
}
