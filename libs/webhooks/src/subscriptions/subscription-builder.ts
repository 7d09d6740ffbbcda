import { Inject, Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { WebhookClock } from '../core/clock.js';
import { checkScope } from '../core/scope-path.js';
import { WebhookSubscriptionOperationError } from '../core/subscription.errors.js';
import type { CreateWebhookSubscriptionInput, UpdateWebhookSubscriptionInput } from '../core/subscription-input.js';
import type { WebhookSubscription, WebhookSubscriptionSource } from '../core/webhook-subscription.js';
import { SubscriptionStatusMessages, WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { WebhookDestinationValidator } from '../destinations/webhook-destination.validator.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import { WebhookPayloadTypes } from '../payloads/webhook-payload-types.js';
import { generateSigningSecret } from '../secrets/signing-secret.js';
import type { StoredSigningSecret, SubscriptionPatch } from '../storage/webhook-store.js';
import {
  checkDescription,
  checkDialect,
  checkEvents,
  checkHeaders,
  checkLimit,
  checkMetadata,
  checkOwnerId,
  checkPayloadType,
  checkPermission,
  checkRetrySchedule,
  checkSecret,
  checkUrl,
  type SubscriptionRuleContext,
} from './subscription-rules.js';

/** A new subscription as the rules accept it, with its first signing secret and its header values. */
export interface BuiltSubscription {
  subscription: WebhookSubscription;
  secret: StoredSigningSecret;
  headers: Record<string, string>;
}

/**
 * Turns what a caller asked for into a subscription (or a change of one) that the rules accept: URL and
 * destination, event patterns, payload type, permission, dialect, headers, retry schedule and secret. Every
 * refusal is an `InvalidWebhookSubscriptionError` naming the field.
 */
@Injectable()
export class SubscriptionBuilder {
  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly dialects: WebhookDialectRegistry,
    private readonly destinations: WebhookDestinationValidator,
    private readonly payloadTypes: WebhookPayloadTypes,
    private readonly clock: WebhookClock,
  ) {}

  async build(input: CreateWebhookSubscriptionInput, source: WebhookSubscriptionSource, id: string): Promise<BuiltSubscription> {
    if (input === null || typeof input !== 'object') throw new WebhookSubscriptionOperationError('A subscription definition must be an object');
    const context = this.ruleContext(source);
    const url = await checkUrl(input.url, context);
    const ownerId = checkOwnerId(input.ownerId);
    const now = this.clock.now();
    const headers = checkHeaders(input.headers);
    const subscription: WebhookSubscription = {
      id,
      source,
      url,
      events: checkEvents(input.events),
      payloadType: checkPayloadType(input.payloadType, context),
      scope: checkScope(input.scope),
      ownerId,
      permission: checkPermission(input.permission, ownerId, context),
      dialect: checkDialect(input.dialect, context),
      active: true,
      statusMessage: SubscriptionStatusMessages.Active,
      description: checkDescription(input.description),
      metadata: checkMetadata(input.metadata),
      headerNames: Object.keys(headers),
      retrySchedule: checkRetrySchedule(input.retrySchedule),
      attemptLimit: checkLimit(input.attemptLimit, 'attemptLimit'),
      preconditionFailureLimit: checkLimit(input.preconditionFailureLimit, 'preconditionFailureLimit'),
      preconditionFailures: 0,
      failingSince: null,
      createdAt: now,
      updatedAt: now,
      revision: 0,
    };
    const secret: StoredSigningSecret = {
      id: uuidv7(),
      subscriptionId: id,
      secret: checkSecret(input.secret) ?? generateSigningSecret(),
      createdAt: now,
      expiresAt: null,
    };
    return { subscription, secret, headers };
  }

  /** The checked change of a stored subscription, and the new header values when they change. */
  async patch(current: WebhookSubscription, input: UpdateWebhookSubscriptionInput): Promise<{ patch: SubscriptionPatch; headers?: Record<string, string> }> {
    const context = this.ruleContext('persistent');
    const patch: SubscriptionPatch = {};
    if (input.url !== undefined) patch.url = await checkUrl(input.url, context);
    if (input.events !== undefined) patch.events = checkEvents(input.events);
    if (input.payloadType !== undefined) patch.payloadType = checkPayloadType(input.payloadType, context);
    if (input.permission !== undefined) patch.permission = checkPermission(input.permission, current.ownerId, context);
    if (input.dialect !== undefined) patch.dialect = checkDialect(input.dialect, context);
    if (input.description !== undefined) patch.description = checkDescription(input.description);
    if (input.metadata !== undefined) patch.metadata = checkMetadata(input.metadata);
    const headers = input.headers !== undefined ? checkHeaders(input.headers) : undefined;
    if (headers !== undefined) patch.headerNames = Object.keys(headers);
    if (input.retrySchedule !== undefined) patch.retrySchedule = checkRetrySchedule(input.retrySchedule);
    if (input.attemptLimit !== undefined) patch.attemptLimit = checkLimit(input.attemptLimit, 'attemptLimit');
    if (input.preconditionFailureLimit !== undefined) patch.preconditionFailureLimit = checkLimit(input.preconditionFailureLimit, 'preconditionFailureLimit');
    return { patch, headers };
  }

  /** A new signing secret for a subscription: `supplied` once checked (`InvalidWebhookSubscriptionError` naming `secret`), or a generated one. */
  newSecret(subscriptionId: string, now: Date, supplied?: string): StoredSigningSecret {
    return { id: uuidv7(), subscriptionId, secret: checkSecret(supplied) ?? generateSigningSecret(), createdAt: now, expiresAt: null };
  }

  private ruleContext(source: WebhookSubscriptionSource): SubscriptionRuleContext {
    return {
      source,
      hasDialect: (name) => this.dialects.has(name),
      dialectNames: () => this.dialects.names(),
      permissions: this.options.authorization.permissions,
      defaultPermission: this.options.authorization.defaultPermission,
      // Static subscriptions are checked for syntax and scheme only: they are declared by the developer,
      // and their destinations are checked again on every try.
      isPayloadType: (name) => this.payloadTypes.isKnown(name),
      payloadTypeNames: (type) => this.payloadTypes.namesOf(type),
      checkUrl: (url) => (source === 'static' ? Promise.resolve(void this.destinations.parseTarget(url)) : this.destinations.validateSubscriptionUrl(url)),
    };
  }
}
