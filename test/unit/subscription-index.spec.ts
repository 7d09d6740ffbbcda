import { describe, expect, it } from 'vitest';
import { SubscriptionIndex } from '../../libs/webhooks/src/matching/subscription-index.js';
import { EventPatternTrie } from '../../libs/webhooks/src/matching/event-pattern.trie.js';
import { WebhookPayloadTypes } from '../../libs/webhooks/src/payloads/webhook-payload-types.js';
import { WebhookPayload, type WebhookSubscription } from 'nest-webhooks';

class Employee {}
@WebhookPayload('index.ExternalizableEmployee')
class ExternalizableEmployee extends Employee {}
class Manager extends ExternalizableEmployee {}

let n = 0;
function sub(events: string[], payloadType: WebhookSubscription['payloadType'] = null, id = `s${++n}`): WebhookSubscription {
  const now = new Date(0);
  return {
    id, source: 'persistent', url: 'https://example.com', events, payloadType, scope: null, ownerId: null, permission: null, dialect: null,
    active: true, statusMessage: 'Active', description: null, metadata: {}, headerNames: [], retrySchedule: null, attemptLimit: null, preconditionFailureLimit: null, preconditionFailures: 0,
    failingSince: null, createdAt: now, updatedAt: now, revision: 0,
  };
}

describe('SubscriptionIndex', () => {
  it('matches payload types by class and by registered name, including subclasses', () => {
    const index = new SubscriptionIndex(new WebhookPayloadTypes());
    const byClass = sub(['**'], Employee, 'by-class');
    const byName = sub(['**'], 'index.ExternalizableEmployee', 'by-name');
    const other = sub(['**'], class Unrelated {}, 'other');
    [byClass, byName, other].forEach((s) => index.add(s));
    expect(index.match('employee.modified', new Manager()).map((s) => s.id).sort()).toEqual(['by-class', 'by-name']);
    expect(index.match('employee.modified', new Employee()).map((s) => s.id)).toEqual(['by-class']);
    expect(index.match('employee.modified', { plain: true }).map((s) => s.id)).toEqual([]);
  });

  it('orders results from the most general registration to the most specific, then by registration (seed §1.4)', () => {
    const index = new SubscriptionIndex(new WebhookPayloadTypes());
    const specificType = sub(['**'], ExternalizableEmployee, 'specific-type');
    const general = sub(['**'], null, 'any-payload');
    const parentExact = sub(['employee.modified'], Employee, 'parent-type-exact-event');
    const parentWild = sub(['employee.*'], Employee, 'parent-type-star');
    const generalLater = sub(['**'], null, 'any-payload-later');
    [specificType, general, parentExact, parentWild, generalLater].forEach((s) => index.add(s));
    expect(index.match('employee.modified', new ExternalizableEmployee()).map((s) => s.id)).toEqual([
      'any-payload',
      'any-payload-later',
      'parent-type-star',
      'parent-type-exact-event',
      'specific-type',
    ]);
  });

  it('adding is idempotent and removal unregisters (activate/deactivate)', () => {
    const index = new SubscriptionIndex(new WebhookPayloadTypes());
    const s = sub(['order.*']);
    expect(index.add(s)).toBe(true);
    expect(index.add(s)).toBe(false);
    expect(index.match('order.created', {})).toHaveLength(1);
    expect(index.remove(s.id)).toBe(true);
    expect(index.remove(s.id)).toBe(false);
    expect(index.match('order.created', {})).toHaveLength(0);
  });

  it('a subscription matching through several patterns is returned once', () => {
    const index = new SubscriptionIndex(new WebhookPayloadTypes());
    index.add(sub(['order.*', 'order.created', '**'], null, 'multi'));
    expect(index.match('order.created', {}).map((s) => s.id)).toEqual(['multi']);
  });

  it('refresh re-keys a subscription whose events changed', () => {
    const index = new SubscriptionIndex(new WebhookPayloadTypes());
    const s = sub(['order.created'], null, 'moving');
    index.add(s);
    index.refresh({ ...s, events: ['invoice.*'] });
    expect(index.match('order.created', {})).toHaveLength(0);
    expect(index.match('invoice.paid', {}).map((x) => x.id)).toEqual(['moving']);
  });

  it('a lookup visits only matching patterns, however many others are stored (an index, not a scan)', () => {
    const visitsWith = (others: number) => {
      const trie = new EventPatternTrie<string>();
      for (let i = 0; i < others; i++) trie.add(`tenant${i}.order.created`, `other-${i}`);
      for (let i = 0; i < others / 10; i++) trie.add(`tenant${i}.*.created`, `wild-${i}`);
      trie.add('tenant7.order.created', 'mine');
      trie.add('**', 'all');
      const visited: string[] = [];
      trie.match('tenant7.order.created', (values) => visited.push(...values));
      return visited.sort();
    };
    expect(visitsWith(100_000)).toEqual(['all', 'mine', 'other-7', 'wild-7']);
    expect(visitsWith(100)).toEqual(['all', 'mine', 'other-7', 'wild-7']);
  });
});
