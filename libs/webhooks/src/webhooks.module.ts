import { Inject, Logger, Module, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { SubscriptionAuthorization } from './access/subscription-authorization.js';
import { OwnerWebhookAccessPolicy, WebhookAccessPolicy } from './access/webhook-access.policy.js';
import { WebhookClock } from './core/clock.js';
import { InProcessDeliveryQueue } from './send/queue/in-process-delivery.queue.js';
import { WebhookDeliveryQueue } from './send/queue/webhook-delivery.queue.js';
import { SubscriptionHealth } from './send/subscription-health.js';
import { UndiciThreadWebhookTransport } from './send/transport/undici-thread.transport.js';
import { UndiciWebhookTransport } from './send/transport/undici.transport.js';
import { WebhookTransport } from './send/transport/webhook-transport.js';
import { WebhookDeliveryManager } from './operations/webhook-delivery.manager.js';
import { WebhookShipments } from './publish/webhook-shipments.js';
import { WebhookDeliveryWorker } from './send/webhook-delivery.worker.js';
import { WebhookDestinationValidator } from './destinations/webhook-destination.validator.js';
import { WebhookDialectRegistry } from './dialects/webhook-dialect.registry.js';
import { DefaultWebhookAuthorizer, WebhookAuthorizer } from './access/webhook-authorizer.js';
import { WebhookDispatcher } from './publish/webhook-dispatcher.js';
import { OwnerRemoval } from './publish/owner-removal.js';
import { WebhookEventListener } from './publish/webhook-event.listener.js';
import { WebhookPublisher } from './publish/webhook-publisher.js';
import { WebhookEventPublisher } from './core/webhook-event-publisher.js';
import { OptionsScopeResolver, WebhookScopeResolver, WebhookScopes } from './matching/webhook-scopes.js';
import { WebhookPayloadTypes } from './payloads/webhook-payload-types.js';
import { WebhookPayloadSerializers } from './payloads/webhook-payload.serializers.js';
import { MemoryWebhookStore } from './storage/memory/memory-webhook.store.js';
import { WebhookStore } from './storage/webhook-store.js';
import { DeliveryCredentials } from './subscriptions/delivery-credentials.js';
import { OwnClassDiscriminator, WebhookResourceDiscriminator } from './subscriptions/resource-subscriptions.js';
import { SubscriptionApplicability } from './subscriptions/subscription-applicability.js';
import { SubscriptionBuilder } from './subscriptions/subscription-builder.js';
import { SubscriptionRegistry } from './subscriptions/subscription-registry.js';
import { WebhookDeclaredSubscriptions } from './subscriptions/declared-subscriptions.js';
import { WebhookSubscriptionManager } from './subscriptions/webhook-subscription.manager.js';
import { WebhookTransactions } from './publish/webhook-transactions.js';
import { resolveWebhooksOptions } from './webhooks-options.resolver.js';
import { WebhookTracing } from './tracing/webhook-tracing.js';
import { WEBHOOKS_OPTIONS } from './core/webhooks.constants.js';
import { ConfigurableWebhooksModule, WEBHOOKS_MODULE_OPTIONS } from './webhooks.module-definition.js';
import type { ResolvedWebhooksOptions, WebhooksModuleOptions } from './core/webhooks.options.js';

const optionsProvider: Provider = {
  provide: WEBHOOKS_OPTIONS,
  inject: [WEBHOOKS_MODULE_OPTIONS],
  useFactory: (options: WebhooksModuleOptions) => resolveWebhooksOptions(options),
};

const storeProvider: Provider = {
  provide: WebhookStore,
  inject: [WEBHOOKS_OPTIONS, ModuleRef],
  useFactory: async (options: ResolvedWebhooksOptions, moduleRef: ModuleRef): Promise<WebhookStore> => {
    if (options.storage.type === 'memory') return new MemoryWebhookStore();
    // Loaded only when chosen: an application on the memory store needs no `typeorm` package.
    const [{ DataSource }, { TypeOrmWebhookStore }] = await Promise.all([
      import('typeorm'),
      import('./storage/typeorm/typeorm-webhook.store.js'),
    ]);
    const token = options.storage.dataSourceToken ?? DataSource;
    const dataSource = (): InstanceType<typeof DataSource> => {
      let found: InstanceType<typeof DataSource> | undefined;
      try {
        found = moduleRef.get<InstanceType<typeof DataSource>>(token, { strict: false });
      } catch {
        // reported below
      }
      if (!found) {
        throw new Error(`storage.type 'typeorm' needs a TypeORM DataSource provider (${String((token as { name?: string }).name ?? token)}); import TypeOrmModule.forRoot() or set storage.dataSourceToken`);
      }
      return found;
    };
    return new TypeOrmWebhookStore(dataSource, options);
  },
};

// `@opentelemetry/api` is an optional peer: loaded here, when the module starts; without it tracing is off.
const tracingProvider: Provider = {
  provide: WebhookTracing,
  inject: [WEBHOOKS_OPTIONS],
  useFactory: (options: ResolvedWebhooksOptions) => WebhookTracing.create(options),
};

const transportProvider: Provider = {
  provide: WebhookTransport,
  inject: [WEBHOOKS_OPTIONS, ModuleRef],
  useFactory: async (options: ResolvedWebhooksOptions, moduleRef: ModuleRef) => {
    const transport = options.delivery.transport;
    if (typeof transport !== 'string') return moduleRef.create(transport as Type<WebhookTransport>);
    if (transport === 'undici') return moduleRef.create(UndiciWebhookTransport);
    if (transport === 'undici-thread') return moduleRef.create(UndiciThreadWebhookTransport);
    // Loaded only when chosen, like the TypeORM store: `axios` is an optional peer.
    const { AxiosWebhookTransport } = await import('./send/transport/axios.transport.js');
    return moduleRef.create(AxiosWebhookTransport);
  },
};

/**
 * Outbound webhooks for a Nest application.
 *
 * @example
 * ＠Module({
 *   imports: [
 *     EventEmitterModule.forRoot(),
 *     WebhooksModule.forRoot({ subscriptions: [{ url: 'https://example.com/hooks', events: ['order.*'], secret }] }),
 *   ],
 * })
 * export class AppModule {}
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    optionsProvider,
    WebhookClock,
    storeProvider,
    WebhookEventPublisher,
    tracingProvider,
    WebhookDialectRegistry,
    WebhookPayloadTypes,
    { provide: WebhookScopeResolver, useClass: OptionsScopeResolver },
    WebhookScopes,
    WebhookPayloadSerializers,
    WebhookDestinationValidator,
    { provide: WebhookAuthorizer, useClass: DefaultWebhookAuthorizer },
    { provide: WebhookAccessPolicy, useClass: OwnerWebhookAccessPolicy },
    SubscriptionAuthorization,
    DeliveryCredentials,
    SubscriptionRegistry,
    SubscriptionBuilder,
    SubscriptionApplicability,
    { provide: WebhookResourceDiscriminator, useClass: OwnClassDiscriminator },
    WebhookSubscriptionManager,
    WebhookDeclaredSubscriptions,
    transportProvider,
    SubscriptionHealth,
    WebhookDeliveryWorker,
    { provide: WebhookDeliveryQueue, useClass: InProcessDeliveryQueue },
    WebhookShipments,
    WebhookDeliveryManager,
    WebhookTransactions,
    WebhookDispatcher,
    WebhookPublisher,
    OwnerRemoval,
    WebhookEventListener,
  ],
  exports: [
    WEBHOOKS_OPTIONS,
    WebhookClock,
    WebhookEventPublisher,
    WebhookStore,
    WebhookDialectRegistry,
    WebhookPayloadSerializers,
    WebhookDestinationValidator,
    WebhookAuthorizer,
    WebhookAccessPolicy,
    WebhookSubscriptionManager,
    WebhookDeliveryManager,
    WebhookPublisher,
    WebhookScopes,
    WebhookScopeResolver,
    WebhookResourceDiscriminator,
    WebhookDeclaredSubscriptions,
  ],
})
export class WebhooksModule extends ConfigurableWebhooksModule implements OnApplicationShutdown {
  private readonly logger = new Logger('WebhooksModule');

  constructor(@Inject(WebhookStore) private readonly store: WebhookStore) {
    super();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.store.close();
    } catch (error) {
      this.logger.warn(`Closing the webhook store failed: ${(error as Error).message}`);
    }
  }
}
