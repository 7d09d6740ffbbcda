import { describe, expect, it } from 'vitest';
import type { WebhookSubscription } from 'nest-webhooks';
import { lineage, scopesReached } from '../../libs/webhooks/src/matching/scope-lineage.js';
import { ScopedSubscriptionIndex } from '../../libs/webhooks/src/matching/scoped-subscription-index.js';
import { WebhookPayloadTypes } from '../../libs/webhooks/src/payloads/webhook-payload-types.js';

function sub(id: string, scope: string | null, events = ['**']): WebhookSubscription {
  const now = new Date(0);
  return {
    id, source: 'persistent', url: 'https://example.com', events, payloadType: null, scope, ownerId: null, permission: null, dialect: null,
    active: true, statusMessage: 'Active', description: null, metadata: {}, headerNames: [], retrySchedule: null, attemptLimit: null, preconditionFailureLimit: null, preconditionFailures: 0,
    failingSince: null, createdAt: now, updatedAt: now, revision: 0,
  };
}

describe('scope lineage', () => {
  it('lists a scope and its ancestors from the root', () => {
    expect(lineage('/')).toEqual(['/']);
    expect(lineage('/acme')).toEqual(['/', '/acme']);
    expect(lineage('/acme/sales/emea')).toEqual(['/', '/acme', '/acme/sales', '/acme/sales/emea']);
  });

  it('reaches the current and the payload lineages once each, root first, the current one first at equal depth', () => {
    expect(scopesReached({ current: null, payload: null })).toEqual([]);
    expect(scopesReached({ current: '/a/b', payload: '/a/c' })).toEqual(['/', '/a', '/a/b', '/a/c']);
    expect(scopesReached({ current: '/a', payload: '/a/b/c' })).toEqual(['/', '/a', '/a/b', '/a/b/c']);
  });
});

describe('ScopedSubscriptionIndex', () => {
  const index = () => new ScopedSubscriptionIndex(new WebhookPayloadTypes());

  it('matches global subscriptions, then each reached scope from the root; never siblings or descendants', () => {
    const subscriptions = index();
    for (const s of [sub('tenant', '/acme'), sub('global', null), sub('sales', '/acme/sales'), sub('sibling', '/acme/support'), sub('below', '/acme/sales/emea'), sub('other', '/globex')]) {
      subscriptions.add(s);
    }
    expect(subscriptions.match('order.created', {}, { current: null, payload: '/acme/sales' }).map((s) => s.id)).toEqual(['global', 'tenant', 'sales']);
    expect(subscriptions.match('order.created', {}).map((s) => s.id)).toEqual(['global']);
    expect(subscriptions.match('order.created', {}, { current: '/globex', payload: '/acme' }).map((s) => s.id)).toEqual(['global', 'other', 'tenant']);
  });

  it('keeps a subscription in its scope when refreshed, and forgets empty scopes', () => {
    const subscriptions = index();
    subscriptions.add(sub('s', '/acme', ['order.*']));
    subscriptions.refresh(sub('s', '/acme', ['invoice.*']));
    expect(subscriptions.match('invoice.paid', {}, { current: '/acme', payload: null }).map((s) => s.id)).toEqual(['s']);
    expect(subscriptions.get('s')?.events).toEqual(['invoice.*']);
    expect(subscriptions.remove('s')).toBe(true);
    expect(subscriptions.has('s')).toBe(false);
    expect(subscriptions.match('invoice.paid', {}, { current: '/acme', payload: null })).toEqual([]);
  });

  it('an event visits only its lineages, however many scopes hold subscriptions', () => {
    const subscriptions = index();
    for (let t = 0; t < 1000; t++) subscriptions.add(sub(`t${t}`, `/tenant-${t}/dept`));
    const visited = subscriptions.match('order.created', {}, { current: null, payload: '/tenant-500/dept' });
    expect(visited.map((s) => s.id)).toEqual(['t500']);
  });
});
