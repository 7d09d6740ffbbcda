import type { INestApplication, INestApplicationContext, LogLevel, ModuleMetadata, Provider } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { WebhookClock } from './core/clock.js';
import type { WebhooksModuleOptions } from './core/webhooks.options.js';
import { WebhookTestClock } from './testing/webhook-test-clock.js';
import { WebhookTestReceiver, type WebhookTestReceiverOptions } from './testing/webhook-test-receiver.js';
import type { WebhooksModuleExtras } from './webhooks.module-definition.js';
import { WebhooksModule } from './webhooks.module.js';

/** What `createWebhooksTestingModule` passes to `WebhooksModule.forRoot`: options, and the module extras. */
export type WebhooksTestingOptions = WebhooksModuleOptions & Omit<WebhooksModuleExtras, 'isGlobal'>;

/** Options of `createWebhooksTestingModule`. */
export interface WebhooksTestingModuleOptions {
  /** The application's modules under test. @default [] */
  imports?: ModuleMetadata['imports'];
  /** More providers for the testing module. @default [] */
  providers?: Provider[];
  /**
   * `WebhooksModule.forRoot` options and extras, or a function of the receiver that returns them (to subscribe its
   * `url` with its `secret` yourself). The testing module adds the test clock, loopback destinations over HTTP, and
   * `delivery.retryJitter: 0` unless given. @default {}
   */
  webhooks?: WebhooksTestingOptions | ((receiver: WebhookTestReceiver) => WebhooksTestingOptions);
  /**
   * Events the receiver subscribes to, as a static subscription `WebhookTestReceiver` to `<receiver.url>/webhooks`
   * signed with `receiver.secret`; `false` for none (subscribe it yourself). @default ['**'] (every event)
   */
  subscribe?: string[] | false;
  /** Options of the receiver (HTTPS, its secret, …); its clock is the test clock. @default {} */
  receiver?: WebhookTestReceiverOptions;
  /** Where the test clock starts. @default now */
  startAt?: Date | number;
  /** Import `EventEmitterModule.forRoot()`; `false` when `imports` already does. @default true */
  eventEmitter?: boolean;
  /** Changes to the testing module before it compiles, such as `overrideProvider`. */
  configure?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  /** Create an HTTP application (needs an HTTP platform such as `@nestjs/platform-express`), not listening. @default false */
  http?: boolean;
  /** Log levels of the application; `false` for none. @default ['error', 'warn'] */
  logger?: LogLevel[] | false;
}

/** What `createWebhooksTestingModule` started: close it after the test. */
export interface WebhooksTestingModule<App extends INestApplicationContext = INestApplicationContext> {
  /** The initialized application: an HTTP application with `http: true`, else the testing module itself. */
  readonly app: App;
  readonly moduleRef: TestingModule;
  readonly receiver: WebhookTestReceiver;
  /** The library's clock, attached to the application: `advance(ms)` runs the retries falling due. */
  readonly clock: WebhookTestClock;
  /** Closes the application and the receiver. */
  close(): Promise<void>;
}

const LOOPBACK = ['127.0.0.1/32', '::1/128'];

/** The options given, with the subscription of the receiver and what lets the library reach it. */
function testingOptions(options: WebhooksTestingModuleOptions, receiver: WebhookTestReceiver, clock: WebhookTestClock): WebhooksTestingOptions {
  const given = typeof options.webhooks === 'function' ? options.webhooks(receiver) : (options.webhooks ?? {});
  const subscribe = options.subscribe ?? ['**'];
  const allowed = given.destinations?.allowPrivateNetworks;
  return {
    ...given,
    subscriptions: [
      ...(given.subscriptions ?? []),
      ...(subscribe ? [{ id: 'WebhookTestReceiver', url: `${receiver.url}/webhooks`, events: subscribe, secret: receiver.secret }] : []),
    ],
    destinations: {
      allowHttp: true,
      ...given.destinations,
      allowPrivateNetworks: allowed === true ? true : [...LOOPBACK, ...(Array.isArray(allowed) ? allowed : [])],
    },
    delivery: { retryJitter: 0, ...given.delivery },
    providers: [{ provide: WebhookClock, useValue: clock }, ...(given.providers ?? [])],
  };
}

/**
 * Starts a `WebhookTestReceiver` and an application under test with `WebhooksModule` (on the memory store unless
 * `webhooks.storage` says otherwise), `EventEmitterModule`, the test clock in place of the library's, and the
 * receiver subscribed to every event.
 *
 * @example
 * const testing = await createWebhooksTestingModule({ imports: [OrdersModule] });
 * testing.app.get(OrdersService).place({ id: 'o-1' });
 * await testing.receiver.waitFor(1);
 * expect(testing.receiver).toHaveReceived('order.placed', { data: { id: 'o-1' } });
 * await testing.close();
 */
export async function createWebhooksTestingModule(options: WebhooksTestingModuleOptions & { http: true }): Promise<WebhooksTestingModule<INestApplication>>;
export async function createWebhooksTestingModule(options?: WebhooksTestingModuleOptions): Promise<WebhooksTestingModule>;
export async function createWebhooksTestingModule(options: WebhooksTestingModuleOptions = {}): Promise<WebhooksTestingModule> {
  const clock = new WebhookTestClock(options.startAt);
  const receiver = await WebhookTestReceiver.start({ clock, ...options.receiver });
  try {
    const builder = Test.createTestingModule({
      imports: [
        ...(options.eventEmitter === false ? [] : [EventEmitterModule.forRoot()]),
        WebhooksModule.forRoot(testingOptions(options, receiver, clock)),
        ...(options.imports ?? []),
      ],
      providers: options.providers ?? [],
    });
    const moduleRef = await (options.configure?.(builder) ?? builder).compile();
    const logger = options.logger ?? ['error', 'warn'];
    let app: INestApplicationContext;
    try {
      if (options.http) {
        app = await moduleRef.createNestApplication({ logger }).init();
      } else {
        moduleRef.useLogger(logger);
        app = await moduleRef.init();
      }
    } catch (error) {
      // Compiled but failed to start: what did start (a store's connections, timers) is closed too.
      await moduleRef.close().catch(() => undefined);
      throw error;
    }
    clock.attach(app);
    return {
      app,
      moduleRef,
      receiver,
      clock,
      close: async () => {
        clock.detach();
        try {
          await app.close();
        } finally {
          await receiver.close();
        }
      },
    };
  } catch (error) {
    await receiver.close();
    throw error;
  }
}
