import 'reflect-metadata';
import type { INestApplication, Provider, Type } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { WebhooksModule, type WebhooksModuleOptions, type WebhookAuthorizer } from '@app/webhooks';
import { testTls } from './tls.js';

/** Options that let deliveries reach the loopback test receivers (policy otherwise unchanged). */
export function loopbackDestinations(extra: WebhooksModuleOptions['destinations'] = {}): WebhooksModuleOptions['destinations'] {
  return { allowPrivateNetworks: ['127.0.0.1/32', '::1/128'], tls: { ca: testTls.ca }, ...extra };
}

export interface TestAppOptions {
  webhooks?: WebhooksModuleOptions;
  imports?: Array<Type<unknown> | ReturnType<typeof WebhooksModule.forRoot>>;
  providers?: Provider[];
  authorizer?: Type<WebhookAuthorizer>;
  /** Providers replacing the library's own (e.g. a clock). */
  overrides?: Provider[];
  /** Modules imported before WebhooksModule (e.g. TypeOrmModule). */
  before?: unknown[];
}

/** Boots a real Nest application with EventEmitterModule and WebhooksModule (no HTTP listener). */
export async function createWebhooksApp(options: TestAppOptions = {}): Promise<INestApplication> {
  @Module({
    imports: [
      EventEmitterModule.forRoot({ wildcard: true }),
      ...((options.before ?? []) as Type<unknown>[]),
      WebhooksModule.forRoot({
        ...options.webhooks,
        destinations: { ...loopbackDestinations(), ...options.webhooks?.destinations },
        // WEBHOOKS_TEST_TRANSPORT=axios|undici|undici-thread runs the suite against one transport or the other.
        delivery: { ...(process.env.WEBHOOKS_TEST_TRANSPORT ? { transport: process.env.WEBHOOKS_TEST_TRANSPORT } : {}), ...options.webhooks?.delivery },
        authorizer: options.authorizer,
        providers: options.overrides ?? [],
      } as never),
      ...((options.imports ?? []) as Type<unknown>[]),
    ],
    providers: options.providers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
  await app.init();
  return app;
}
