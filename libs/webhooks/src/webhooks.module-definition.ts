import { ConfigurableModuleBuilder, type Provider, type Type } from '@nestjs/common';
import { WebhookAuthorizer } from './access/webhook-authorizer.js';
import type { WebhooksModuleOptions } from './core/webhooks.options.js';

/** Options of `forRoot`/`forRootAsync` that shape the module itself rather than its behaviour. */
export interface WebhooksModuleExtras {
  /** Register the module globally so every module can inject its services. @default true */
  isGlobal?: boolean;
  /** The class deciding whether an owner may receive an event (resolved in this module, with `imports`). */
  authorizer?: Type<WebhookAuthorizer>;
  /**
   * Providers that replace the library's own, by token: for example
   * `{ provide: WebhookDestinationValidator, useClass: MyValidator }` or `{ provide: WebhookClock, useValue: … }`.
   * @default []
   */
  providers?: Provider[];
}

/**
 * What Nest's `ConfigurableModuleBuilder` makes of the options: `ConfigurableWebhooksModule`, the base class giving
 * `WebhooksModule` its `forRoot`/`forRootAsync` (with the extras above); `WEBHOOKS_MODULE_OPTIONS`, the token of
 * the options as given (resolved into `WEBHOOKS_OPTIONS` by the module); and `WEBHOOKS_OPTIONS_TYPE` /
 * `WEBHOOKS_ASYNC_OPTIONS_TYPE`, type carriers of what `forRoot` and `forRootAsync` accept (for `typeof`, not values).
 */
export const {
  ConfigurableModuleClass: ConfigurableWebhooksModule,
  MODULE_OPTIONS_TOKEN: WEBHOOKS_MODULE_OPTIONS,
  OPTIONS_TYPE: WEBHOOKS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: WEBHOOKS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<WebhooksModuleOptions>({ moduleName: 'Webhooks' })
  .setClassMethodName('forRoot')
  .setExtras<WebhooksModuleExtras>({ isGlobal: true, providers: [] }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
    providers: [
      ...(definition.providers ?? []),
      ...(extras.authorizer ? [{ provide: WebhookAuthorizer, useClass: extras.authorizer }] : []),
      ...(extras.providers ?? []),
    ],
  }))
  .build();
