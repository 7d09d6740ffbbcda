import { describe, expect, it } from 'vitest';
import { dashboardBase, type DashboardIncoming } from '../../libs/webhooks/src/dashboard/dashboard-exchange.js';

const base = (route: string | undefined, path: string) => dashboardBase({ route: route === undefined ? undefined : { path: route } } as DashboardIncoming, path);

describe('the dashboard’s URL path, from the route the router matched', () => {
  it.each([
    ['/webhooks/dashboard', 'webhooks/dashboard', '/webhooks/dashboard'],
    ['/webhooks/dashboard/subscriptions/:id/rotate-secret', 'webhooks/dashboard', '/webhooks/dashboard'],
    ['/api/v1/ops/hooks/deliveries/:id', 'ops/hooks', '/api/v1/ops/hooks'],
    // A global prefix that holds the mount path, and a mount path that is also a route's first segment.
    ['/webhooks/webhooks/subscriptions/:id', 'webhooks', '/webhooks/webhooks'],
    ['/deliveries/deliveries/:id', 'deliveries', '/deliveries'],
    ['/a.b/assets/dashboard.css', 'a.b', '/a.b'],
    // The catch-all that answers unknown paths with the dashboard's 404 page.
    ['/api/ops/hooks/*path', 'ops/hooks', '/api/ops/hooks'],
  ])('%s mounted at %s → %s', (route, path, expected) => {
    expect(base(route, path)).toBe(expected);
  });

  it('falls back to the mount path when the router said nothing', () => {
    expect(base(undefined, 'webhooks/dashboard')).toBe('/webhooks/dashboard');
  });
});
