import { describe, expect, it } from 'vitest';
import type { WebhookSubscription } from 'nest-webhooks';
import type { DeliveryHealth } from '../../libs/webhooks/src/dashboard/delivery-health.js';
import type { PageContext } from '../../libs/webhooks/src/dashboard/pages/layout.js';
import { subscriptionsPage } from '../../libs/webhooks/src/dashboard/pages/subscriptions-page.js';

const context: PageContext = { title: 'Webhooks', base: '/dash', csrf: 'token', flash: null, logoutUrl: null, section: 'subscriptions' };
const noHealth: DeliveryHealth = { recent: [], successful: 0, failed: 0, pending: 0, successRate: null, lastSuccessAt: null };

function subscription(changes: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return {
    id: 'sub-1',
    source: 'persistent',
    url: 'https://receiver.example/hooks',
    events: ['order.*'],
    payloadType: null,
    scope: null,
    ownerId: 'alice',
    permission: null,
    dialect: null,
    active: true,
    statusMessage: 'Active',
    description: null,
    metadata: {},
    headerNames: [],
    retrySchedule: null,
    attemptLimit: null,
    preconditionFailureLimit: null,
    preconditionFailures: 0,
    failingSince: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    revision: 1,
    ...changes,
  };
}

const overview = (all: WebhookSubscription[]) => subscriptionsPage(context, { all, rows: all.map((s) => ({ subscription: s, health: noHealth })), page: 1, pages: 1 }).markup;

describe('the subscriptions overview', () => {
  it('counts and shows "failing since" for active subscriptions only', () => {
    const since = new Date('2026-01-02T03:04:05Z');
    const markup = overview([
      subscription({ id: 'on', description: 'Failing and on', failingSince: since }),
      subscription({ id: 'off', description: 'Failing and off', active: false, statusMessage: 'Deactivated', failingSince: new Date('2025-12-01T00:00:00Z') }),
    ]);
    expect(markup).toContain('2 subscriptions: 1 active, 1 inactive, 1 failing.');
    expect(markup).toContain('<time datetime="2026-01-02T03:04:05.000Z">');
    expect(markup).not.toContain('2025-12-01');
  });
});
