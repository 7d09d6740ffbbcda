import { describe, expect, it } from 'vitest';
import type { WebhookAttempt, WebhookSubscription } from 'nest-webhooks';
import type { DeliveryHealth } from '../../libs/webhooks/src/dashboard/delivery-health.js';
import { deliveriesTable } from '../../libs/webhooks/src/dashboard/pages/delivery-rows.js';
import { layout, type PageContext } from '../../libs/webhooks/src/dashboard/pages/layout.js';
import { html } from '../../libs/webhooks/src/dashboard/html.js';
import { deliveriesPage } from '../../libs/webhooks/src/dashboard/pages/deliveries-page.js';
import { subscriptionPage } from '../../libs/webhooks/src/dashboard/pages/subscription-page.js';
import { subscriptionsPage } from '../../libs/webhooks/src/dashboard/pages/subscriptions-page.js';
import { subscriptionRecord } from '../support/stores.js';

const context: PageContext = { title: 'Webhooks', base: '/dash', csrf: 'token', flash: null, logoutUrl: null, section: 'subscriptions' };
const noHealth: DeliveryHealth = { recent: [], successful: 0, failed: 0, pending: 0, successRate: null, lastSuccessAt: null };

function subscription(changes: Partial<WebhookSubscription> = {}): WebhookSubscription {
  return subscriptionRecord({ id: 'sub-1', url: 'https://receiver.example/hooks', events: ['order.*'], revision: 1, ...changes });
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

describe('a secret in a subscription URL’s path', () => {
  const slack = subscription({ id: 'slack', url: 'https://hooks.slack.com/services/T000/B000/XXXXSECRETXXXX' });

  it('stays out of the page title: the host names it there', () => {
    const markup = subscriptionPage({ ...context, section: 'subscriptions' }, slack, { health: noHealth, recent: [], rotationOverlapMs: 3_600_000, recoverSince: new Date('2026-01-01T00:00:00Z') }).markup;
    expect(/<title>([^<]*)<\/title>/.exec(markup)![1]).toBe('hooks.slack.com · Webhooks');
    const described = subscriptionPage(context, { ...slack, description: 'Team alerts' }, { health: noHealth, recent: [], rotationOverlapMs: 0, recoverSince: new Date(0) }).markup;
    expect(/<title>([^<]*)<\/title>/.exec(described)![1]).toBe('Team alerts · Webhooks');
  });

  it('stays out of the subscription filter’s choices', () => {
    const markup = deliveriesPage({ ...context, section: 'deliveries' }, { filter: { limit: 25 }, attempts: [], nextCursor: null, subscriptions: new Map([['slack', slack]]) }).markup;
    expect(markup).toContain('<option value="slack">hooks.slack.com</option>');
    expect(markup).not.toContain('XXXXSECRETXXXX');
  });
});

describe('accessible names and announcements', () => {
  it('names a delivery’s link by its visible time first', () => {
    const attempt = { id: 'a-1', subscriptionId: 'sub-1', eventName: 'order.created', status: 'successful', createdAt: new Date('2026-01-31T14:30:05.250Z'), history: [], tries: 1, response: null } as unknown as WebhookAttempt;
    const markup = deliveriesTable(context, [attempt], { id: 'c', caption: 'Deliveries', empty: 'None' }).markup;
    const link = /<a href="\/dash\/deliveries\/a-1" aria-label="([^"]*)"><time [^>]*>([^<]*)<\/time><\/a>/.exec(markup)!;
    expect(link[2]).toBe('2026-01-31 14:30:05 UTC');
    expect(link[1]).toBe('2026-01-31 14:30:05 UTC: delivery of order.created');
  });

  it('lets the script focus the message after an action', () => {
    const markup = layout({ ...context, flash: { kind: 'success', text: 'Done.' } }, 'Page', html`<h1>Page</h1>`).markup;
    expect(markup).toContain('<div class="flash flash-success" role="status" tabindex="-1">');
  });
});
