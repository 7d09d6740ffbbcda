import type { ServerResponse } from 'node:http';
import { Get, Injectable, Req, Res } from '@nestjs/common';
import { DASHBOARD_CSS } from './assets/dashboard-css.js';
import { DASHBOARD_ICON } from './assets/dashboard-icon.js';
import { DASHBOARD_JS } from './assets/dashboard-js.js';
import type { DashboardIncoming } from './dashboard-exchange.js';
import { DashboardRequests } from './dashboard-requests.js';

/** The stylesheet, the script and the icon, public like any static file (they hold no data), so a sign-in page may use them too. */
@Injectable()
export class DashboardAssetsRoutes {
  constructor(private readonly requests: DashboardRequests) {}

  @Get('assets/dashboard.css')
  stylesheet(@Req() request: DashboardIncoming, @Res() response: ServerResponse): void {
    this.requests.exchange(request, response).asset('text/css; charset=utf-8', DASHBOARD_CSS);
  }

  @Get('assets/dashboard.js')
  script(@Req() request: DashboardIncoming, @Res() response: ServerResponse): void {
    this.requests.exchange(request, response).asset('text/javascript; charset=utf-8', DASHBOARD_JS);
  }

  @Get('assets/icon.svg')
  icon(@Req() request: DashboardIncoming, @Res() response: ServerResponse): void {
    this.requests.exchange(request, response).asset('image/svg+xml', DASHBOARD_ICON);
  }
}
