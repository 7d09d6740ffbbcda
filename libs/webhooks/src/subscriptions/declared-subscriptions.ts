import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { WebhookClock } from '../core/clock.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import { WebhookDeclarationsSyncedEvent, WebhookSubscriptionDeactivatedEvent, WebhookSubscriptionEvent } from '../core/webhook-events.js';
import { SubscriptionStatusMessages, WEBHOOKS_OPTIONS, WebhookEvents } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import type { BuiltDeclaration, DeclarationSyncResult } from '../storage/declaration-plan.js';
import { WebhookStore } from '../storage/webhook-store.js';
import { SubscriptionBuilder } from './subscription-builder.js';
import { SubscriptionRegistry } from './subscription-registry.js';
import { subscriptionSnapshot } from './subscription-snapshot.js';

/**
 * Subscriptions declared in configuration (`forRoot({ declaredSubscriptions })`, `nti.webhooks`' ZCML-persistent
 * subscriptions), kept in sync with the store at every start: a declaration new since the last sync gets a
 * subscription; one that left the configuration has its subscription deactivated (history kept); a declaration is
 * the same when its scope, URL, events (in any order), payload type, owner, permission and dialect are. Each sync
 * that changes something raises a generation. The sync runs at bootstrap, after the registry is loaded and before
 * deliveries are claimed, and in one store transaction, so instances that start together create each once.
 */
@Injectable()
export class WebhookDeclaredSubscriptions implements OnApplicationBootstrap {
  private readonly logger = new Logger('WebhookDeclaredSubscriptions');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly store: WebhookStore,
    private readonly builder: SubscriptionBuilder,
    private readonly registry: SubscriptionRegistry,
    private readonly events: WebhookEventPublisher,
    private readonly clock: WebhookClock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.sync();
  }

  /** Brings the stored declared subscriptions in line with the configuration; a second call finds nothing to do. */
  async sync(): Promise<WebhookDeclarationsSyncedEvent> {
    const candidates = new Map<string, BuiltDeclaration>();
    for (const declaration of this.options.declaredSubscriptions) {
      // Checked like an API subscription (a bad one fails the start before anything is written).
      const { subscription, secret, headers } = await this.builder.build(declaration, 'declared', '');
      const key = declarationKey(subscription);
      if (candidates.has(key)) continue;
      if (declaration.secret === undefined) this.logger.warn(`A declared subscription for ${subscription.url} has no secret; set "secret" so receivers can verify`);
      const id = uuidv7();
      candidates.set(key, { subscription: { ...subscription, id }, credentials: { secrets: [{ ...secret, subscriptionId: id }], headers } });
    }
    let result: DeclarationSyncResult;
    try {
      result = await this.store.syncDeclarations([...candidates.keys()].sort(), candidates, {
        message: SubscriptionStatusMessages.DeclarationRemoved,
        now: this.clock.now(),
      });
    } catch (error) {
      // A store without declared subscriptions is fine while none are declared.
      if (candidates.size === 0) return new WebhookDeclarationsSyncedEvent(0, [], [], [], []);
      throw error;
    }
    for (const key of result.missing) this.logger.error(`The declared subscription ${key} was deleted or deactivated by hand; it is not recreated`);
    for (const subscription of result.added) {
      this.registry.applyOwn(subscription);
      this.events.emit(WebhookEvents.SubscriptionCreated, new WebhookSubscriptionEvent(subscriptionSnapshot(subscription)));
    }
    for (const subscription of result.deactivated) {
      this.registry.applyOwn(subscription);
      this.events.emit(WebhookEvents.SubscriptionDeactivated, new WebhookSubscriptionDeactivatedEvent(subscriptionSnapshot(subscription), 'declaration-removed'));
    }
    const synced = new WebhookDeclarationsSyncedEvent(
      result.generation,
      result.added.map((s) => s.id),
      result.deactivated.map((s) => s.id),
      result.kept,
      result.missing,
    );
    this.events.emit(WebhookEvents.DeclarationsSynced, synced);
    return synced;
  }

  /** The generation and the declaration keys of the last sync. */
  state(): Promise<{ generation: number; keys: string[] }> {
    return this.store.declarationState();
  }
}

/** What makes two declarations the same subscription (never the secret, headers or description). */
function declarationKey(s: BuiltDeclaration['subscription']): string {
  const identity = [s.scope, s.url, [...new Set(s.events)].sort(), s.payloadType, s.ownerId, s.permission, s.dialect];
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}
