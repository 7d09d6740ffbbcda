import type { WebhookSubscription } from '../../core/webhook-subscription.js';
import type { WebhookSubscriptionEntity } from './entities/webhook-subscription.entity.js';

export function toSubscriptionEntity(s: WebhookSubscription, secrets: string, revision: number, declaredKey: string | null = null): WebhookSubscriptionEntity {
  if (s.payloadType !== null && typeof s.payloadType !== 'string') throw new Error('Stored subscriptions keep payload types by name');
  return {
    id: s.id,
    url: s.url,
    events: [...s.events],
    payloadType: s.payloadType,
    scope: s.scope,
    ownerId: s.ownerId,
    permission: s.permission,
    dialect: s.dialect,
    active: s.active,
    statusMessage: s.statusMessage,
    description: s.description,
    metadata: { ...s.metadata },
    headerNames: [...s.headerNames],
    retrySchedule: s.retrySchedule ? [...s.retrySchedule] : null,
    attemptLimit: s.attemptLimit,
    preconditionFailureLimit: s.preconditionFailureLimit,
    preconditionFailures: s.preconditionFailures,
    failingSince: s.failingSince,
    revision,
    declaredKey,
    secrets,
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
  };
}

export function toSubscription(e: WebhookSubscriptionEntity): WebhookSubscription {
  return Object.freeze({
    id: e.id,
    source: e.declaredKey ? ('declared' as const) : ('persistent' as const),
    url: e.url,
    events: e.events,
    payloadType: e.payloadType,
    scope: e.scope ?? null,
    ownerId: e.ownerId,
    permission: e.permission,
    dialect: e.dialect,
    active: Boolean(e.active),
    statusMessage: e.statusMessage,
    description: e.description,
    metadata: e.metadata ?? {},
    headerNames: e.headerNames ?? [],
    retrySchedule: e.retrySchedule,
    attemptLimit: e.attemptLimit === null || e.attemptLimit === undefined ? null : Number(e.attemptLimit),
    preconditionFailureLimit: e.preconditionFailureLimit === null || e.preconditionFailureLimit === undefined ? null : Number(e.preconditionFailureLimit),
    preconditionFailures: Number(e.preconditionFailures),
    failingSince: e.failingSince,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    revision: Number(e.revision ?? 0),
  });
}
