import { createHash } from 'node:crypto';
import { type DynamicModule, type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule, type TypeOrmModuleOptions } from '@nestjs/typeorm';
import { ClsPluginTransactional } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { Database } from 'better-sqlite3';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import { WebhooksModule } from 'nest-webhooks';
import { WebhooksHealthIndicator } from 'nest-webhooks/health';
import { WebhooksMetricsModule } from 'nest-webhooks/metrics';
import { WebhooksDashboardModule } from 'nest-webhooks/dashboard';
import { runMigrationsExclusively, WEBHOOK_ENTITIES, WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { ApiKeys } from './auth/api-keys.js';
import { ApiKeysModule } from './auth/api-keys.module.js';
import { ApiExceptionFilter } from './common/api-exception.filter.js';
import { QueryKeyGuard } from './common/json-body-guard.js';
import { JsonContentTypeGuard } from './common/json-content-type.js';
import type { AppConfig } from './config/app-config.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { METRICS_TOKEN } from './metrics/metrics-token.guard.js';
import { DashboardLoginController } from './dashboard/dashboard-login.controller.js';
import { DASHBOARD_PATH, LOGOUT_PATH } from './dashboard/dashboard-session.js';
import { dashboardPrincipal, DashboardSessionGuard } from './dashboard/dashboard-session.guard.js';
import { HEALTH_SETTINGS, HealthController } from './health/health.controller.js';
import { CreateExampleOrders1764300100000 } from './orders/migrations/1764300100000-create-example-orders.js';
import { Order } from './orders/order.entity.js';
import { OrderOwnerAuthorizer } from './orders/order-owner.authorizer.js';
import { OWNER_SCOPES } from './webhooks/owner-scopes.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { AttemptsController } from './webhooks/attempts.controller.js';
import { OwnedSubscriptions } from './webhooks/owned-subscriptions.js';
import { SubscriptionsController } from './webhooks/subscriptions.controller.js';

/** Everything the module needs beyond the environment: resolved keys and test hooks. */
export interface ExampleAppSettings {
  config: AppConfig;
  apiKeys: Map<string, string>;
  secretKey: string;
  /** Delivery options for tests (e.g. a short retry schedule); over those of the environment. */
  delivery?: Parameters<typeof WebhooksModule.forRoot>[0]['delivery'];
}

/** A key's id is a fingerprint of it, so rows say which key encrypted them without revealing it. */
function encryptionKey(key: string) {
  return { id: `k${createHash('sha256').update(key).digest('hex').slice(0, 10)}`, key };
}

function typeOrmOptions(config: AppConfig): TypeOrmModuleOptions {
  const common = {
    entities: [...WEBHOOK_ENTITIES, Order],
    migrations: [...WEBHOOK_MIGRATIONS, CreateExampleOrders1764300100000],
    // Run by the DataSource factory below, under a lock: several instances may start at once.
    migrationsRun: false,
    synchronize: false,
  };
  return config.database.type === 'sqlite'
    ? {
        type: 'better-sqlite3',
        database: config.database.path,
        // 8 KiB pages for attempt rows of 1-3 KB (docs/configuration.md); only takes effect on a new database file.
        prepareDatabase: (db: Database) => {
          db.pragma('page_size = 8192');
        },
        enableWAL: true,
        ...common,
      }
    : {
        type: 'postgres',
        url: config.database.url,
        // TypeORM holds a connection without an 'error' listener while it initializes; a backend terminated then
        // (failover, pg_terminate_backend) would crash the process. The pool still drops the broken connection.
        extra: {
          onConnect: (client: { on(event: 'error', listener: () => void): unknown }) => {
            client.on('error', () => undefined);
          },
        },
        ...common,
      };
}

/** The example application: management API, demo orders, health, metrics and OpenAPI (a `worker` has only delivery). */
@Module({})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(QueryKeyGuard).forRoutes('*path');
    // The JSON API refuses other bodies with 415; the dashboard's and the sign-in page's forms are HTML forms.
    consumer.apply(JsonContentTypeGuard).forRoutes(SubscriptionsController, AttemptsController, OrdersController);
  }

  static register(settings: ExampleAppSettings): DynamicModule {
    const { config } = settings;
    const serves = config.role !== 'worker';
    const observes = serves || config.workerPort !== null;
    const delivers = config.role !== 'api' && settings.delivery?.worker !== false;
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => typeOrmOptions(config),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsExclusively(dataSource);
            return dataSource;
          },
        }),
        TypeOrmModule.forFeature([Order]),
        ClsModule.forRoot({
          global: true,
          middleware: { mount: true },
          plugins: [new ClsPluginTransactional({ adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: DataSource }) })],
        }),
        EventEmitterModule.forRoot({ wildcard: true }),
        WebhooksModule.forRoot({
          storage: { type: 'typeorm' },
          secrets: { encryptionKeys: [settings.secretKey, ...config.previousSecretKeys].map(encryptionKey) },
          destinations: {
            allowHttp: config.allowHttp,
            allowPrivateNetworks: config.allowPrivateNetworks,
            tls: config.tlsCa ? { ca: config.tlsCa } : undefined,
          },
          // An `api` process publishes only: its attempts are written unleased and the workers send them. So do the
          // operator commands, which ask for `worker: false`.
          delivery: { ...config.delivery, ...settings.delivery, worker: delivers },
          authorizer: OrderOwnerAuthorizer,
          // An order lives in its owner's tenant scope: it reaches that scope's subscriptions and its ancestors'.
          scopes: { resolve: (payload) => (payload instanceof Order ? (config.ownerScopes.get(payload.ownerId) ?? null) : null) },
        }),
        // Health and metrics are served over HTTP: by API processes, and by workers given WEBHOOKS_WORKER_PORT.
        ...(observes ? [TerminusModule.forRoot(), WebhooksMetricsModule.forRoot({})] : []),
        ApiKeysModule.register(new ApiKeys(settings.apiKeys)),
        // The deliveries dashboard (docs/dashboard.md), signed in with an API key at /login: each owner sees their own.
        ...(serves
          ? [
              WebhooksDashboardModule.forRoot({
                path: DASHBOARD_PATH,
                guard: DashboardSessionGuard,
                principal: dashboardPrincipal,
                title: 'nest-webhooks example',
                loginUrl: '/login',
                logoutUrl: `/${LOGOUT_PATH}`,
              }),
            ]
          : []),
      ],
      controllers: [
        ...(serves ? [SubscriptionsController, AttemptsController, OrdersController, DashboardLoginController] : []),
        ...(observes ? [HealthController, MetricsController] : []),
      ],
      providers: [
        ...(observes ? [WebhooksHealthIndicator] : []),
        // The outbox lag is a worker's readiness; an API process is ready when its database and store answer.
        { provide: HEALTH_SETTINGS, useValue: { maxOutboxLagMs: delivers ? config.healthMaxOutboxLagMs : undefined } },
        { provide: METRICS_TOKEN, useValue: config.metricsToken },
        OrdersService,
        OwnedSubscriptions,
        { provide: OWNER_SCOPES, useValue: config.ownerScopes },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
      ],
    };
  }
}
