import { Inject, Injectable } from '@nestjs/common';
import { eventMatches, eventPatternProblem } from '../core/event-pattern.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import type { WebhookPayloadSerializer, WebhookPayloadSource, WebhookSerializationContext } from './webhook-payload-serializer.js';
import { WebhookPayloadTypes } from './webhook-payload-types.js';

function hasOwnSerializer(payload: unknown): payload is WebhookPayloadSource {
  return typeof (payload as Partial<WebhookPayloadSource> | null)?.toWebhookPayload === 'function';
}

/**
 * Chooses what is sent for a payload (`nti.webhooks`' five-level adapter priority, in Nest terms). The first
 * candidate that returns something other than `undefined` wins:
 *
 * 1. a serializer registered for the payload's type and for this event (`event` set);
 * 2. the payload's own `toWebhookPayload(context)` method;
 * 3. a serializer registered for the payload's type, for any event;
 * 4. the payload itself (so `toJSON()` applies when it is stringified).
 *
 * At levels 1 and 3 a dialect-specific serializer beats a general one, and the payload's own class beats its
 * parent classes; registration order breaks ties.
 */
@Injectable()
export class WebhookPayloadSerializers {
  private readonly serializers: WebhookPayloadSerializer[] = [];

  constructor(
    @Inject(WEBHOOKS_OPTIONS) options: ResolvedWebhooksOptions,
    private readonly payloadTypes: WebhookPayloadTypes,
  ) {
    for (const serializer of options.serializers) this.register(serializer);
  }

  register(serializer: WebhookPayloadSerializer): void {
    if (typeof serializer?.serialize !== 'function') throw new Error('A webhook payload serializer needs a serialize() function');
    if (typeof serializer.type !== 'function' && typeof serializer.type !== 'string') {
      throw new Error('A webhook payload serializer needs a type: a class or a registered payload type name');
    }
    if (serializer.event !== undefined) {
      const problem = eventPatternProblem(serializer.event);
      if (problem) throw new Error(`Webhook payload serializer event: ${problem}`);
    }
    this.serializers.push(serializer);
  }

  serialize(payload: unknown, context: WebhookSerializationContext): unknown {
    if (this.serializers.length > 0) {
      const eventSpecific = this.pick(payload, context, true);
      if (eventSpecific !== undefined) return eventSpecific;
    }
    if (hasOwnSerializer(payload)) {
      const own = payload.toWebhookPayload(context);
      if (own !== undefined) return own;
    }
    if (this.serializers.length > 0) {
      const typeWide = this.pick(payload, context, false);
      if (typeWide !== undefined) return typeWide;
    }
    return payload;
  }

  private pick(payload: unknown, context: WebhookSerializationContext, eventSpecific: boolean): unknown {
    const chain = this.payloadTypes.chainOf(payload);
    const candidates = this.serializers
      .filter((s) => (s.event !== undefined) === eventSpecific)
      .filter((s) => s.dialect === undefined || s.dialect === context.dialect)
      .filter((s) => chain.specificity.has(s.type))
      .filter((s) => s.event === undefined || eventMatches(s.event, context.eventName))
      .map((s, index) => ({ s, index, level: chain.specificity.get(s.type)!, dialect: s.dialect === undefined ? 0 : 1 }))
      .sort((a, b) => b.dialect - a.dialect || b.level - a.level || a.index - b.index);
    for (const { s } of candidates) {
      const value = s.serialize(payload, context);
      if (value !== undefined) return value;
    }
    return undefined;
  }
}

