import type { CanActivate, ModuleMetadata, Type } from '@nestjs/common';
import type { WebhookPrincipal } from '../access/webhook-access.policy.js';

/** What `forRoot` takes, or what the `forRootAsync` factory returns. */
export interface WebhooksDashboardOptions {
  /**
   * Who is looking, from the request the guard let through (the platform's request: Express's), for example
   * `(req) => ({ id: req.user.id })`.
   * The dashboard shows and changes only what `WebhookAccessPolicy` lets this principal see and update;
   * anything else answers 404. `null` refuses the whole dashboard with 403.
   */
  principal: (request: any) => WebhookPrincipal | null | Promise<WebhookPrincipal | null>;
  /** Shown in the header and the page titles. @default 'Webhooks' */
  title?: string;
  /**
   * Where a browser goes when the guard answers 401 to a page: a 303 redirect there with `?next=` the page it
   * asked for. Unset: the 401 is shown as a page.
   */
  loginUrl?: string;
  /** When set, the header has a "Sign out" button that POSTs to this URL. */
  logoutUrl?: string;
}

/** Options of `forRoot`/`forRootAsync` that shape the module itself: where it is mounted and who may reach it. */
export interface WebhooksDashboardModuleExtras {
  /** The path the dashboard is mounted at, below the application's global prefix. @default 'webhooks/dashboard' */
  path?: string;
  /**
   * The application's guard, run before every dashboard route except its stylesheet and script. It is resolved in
   * the dashboard's module: its dependencies must be global providers or come from `imports`.
   */
  guard?: Type<CanActivate>;
  /** Modules the guard (and, with `forRootAsync`, the factory) needs. @default [] */
  imports?: ModuleMetadata['imports'];
}

/** The options with their defaults applied, as the dashboard's services inject them. */
export interface ResolvedDashboardOptions {
  principal: WebhooksDashboardOptions['principal'];
  title: string;
  loginUrl: string | null;
  logoutUrl: string | null;
  /** The mount path without slashes at either end, as given in `path`. */
  path: string;
}
