import { type CanActivate, Controller, SetMetadata, type Type, UseFilters, UseGuards } from '@nestjs/common';
import { DashboardActionsRoutes } from './dashboard-actions.controller.js';
import { DashboardAssetsRoutes } from './dashboard-assets.controller.js';
import { DashboardErrorsFilter } from './dashboard-errors.filter.js';
import { DashboardPagesRoutes } from './dashboard-pages.controller.js';

/**
 * The dashboard's controllers, mounted at `path` behind `guard`: classes made for one `forRoot`.
 *
 * A Nest controller takes its path from its `@Controller()` decorator, read when the application starts. The
 * alternative, `RouterModule.register([{ path, module }])`, writes the path onto the module class itself, so the
 * application would have to import RouterModule as well, and one module class could sit at one path only. A
 * subclass per `forRoot` keeps the path and the guard with the rest of the options, and two dashboards (or two
 * applications in one process) do not share one.
 */
/**
 * Pages are not an API: `@nestjs/swagger` leaves controllers with this metadata out of its documents. It is what
 * `@ApiExcludeController()` sets, written here so that the library does not need the package.
 */
const NotInApiDocuments = SetMetadata('swagger/apiExcludeController', [true]);

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
