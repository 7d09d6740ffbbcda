import { type CanActivate, Controller, SetMetadata, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { DashboardActionsRoutes } from './dashboard-actions.controller.js';
import { DashboardAssetsRoutes } from './dashboard-assets.controller.js';
import { DashboardErrorsFilter } from './dashboard-errors.filter.js';
import { DashboardPagesRoutes } from './dashboard-pages.controller.js';

/**
 * Pages are not an API: `@nestjs/swagger` leaves controllers with this metadata out of its documents. It is what
 * `@ApiExcludeController()` sets, written here so that the library does not need the package.
 */
const NotInApiDocuments = SetMetadata('swagger/apiExcludeController', [true]);

/**
 * The dashboard's controllers for one `forRoot`: pages, actions and assets mounted at `path`, pages and actions
 * behind `guard`.
 *
 * They are classes made per call because a Nest controller takes its path from its `@Controller()` decorator.
 * `RouterModule.register([{ path, module }])` would write the path onto the module class itself instead: the
 * application would import RouterModule as well, and one module class could sit at one path only. A subclass
 * per `forRoot` keeps the path and the guard with the rest of the options, and two dashboards (or two
 * applications in one process) do not share one.
 */
export function dashboardControllers(path: string, guard: Type<CanActivate> | undefined): Type[] {
  const guards = guard ? [guard] : [];

  @Controller(path)
  @NotInApiDocuments
  @UseGuards(...guards)
  @UseFilters(DashboardErrorsFilter)
  class WebhooksDashboardPagesController extends DashboardPagesRoutes {}

  @Controller(path)
  @NotInApiDocuments
  @UseGuards(...guards)
  @UseFilters(DashboardErrorsFilter)
  class WebhooksDashboardActionsController extends DashboardActionsRoutes {}

  @Controller(path)
  @NotInApiDocuments
  @UseFilters(DashboardErrorsFilter)
  class WebhooksDashboardAssetsController extends DashboardAssetsRoutes {}

  // Assets first: their fixed paths are registered before any page route with a parameter.
  return [WebhooksDashboardAssetsController, WebhooksDashboardPagesController, WebhooksDashboardActionsController];
}
