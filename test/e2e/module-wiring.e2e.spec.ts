import { Injectable, Module, type INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { StandardWebhookDialect, WebhookDeliveryManager, WebhookDestinationValidator, WebhookDialectProvider, WebhookEvents, WebhooksConfigurationError, WebhooksModule, WebhookSubscriptionManager } from 'nest-webhooks';
import { WebhookDialectRegistry, type WebhookRequestContext } from 'nest-webhooks/extensions';
import { TestReceiver } from '../support/receiver.js';
import { testTls } from '../support/tls.js';
import { createWebhooksApp, loopbackDestinations } from '../support/webhooks-app.js';

class ExplodingDialect extends StandardWebhookDialect {
  override externalize(): string {
    throw new Error('dialect exploded');
  }
}

@Injectable()
@WebhookDialectProvider('discovered')
class DiscoveredDialect extends StandardWebhookDialect {
  override method = 'PUT';
}

@Injectable()
class ThrowingListener {
  @OnEvent('order.created')
  onCreated(): void {
    throw new Error('application listener failed');
  }
}

describe('module wiring and robustness', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    app = receiver = undefined;
  });

  it('forRootAsync resolves options from a factory with injected dependencies', async () => {
    @Module({ providers: [{ provide: 'WEBHOOK_LIMIT', useValue: 7 }], exports: ['WEBHOOK_LIMIT'] })
    class ConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        WebhooksModule.forRootAsync({
          imports: [ConfigModule],
          inject: ['WEBHOOK_LIMIT'],
          useFactory: (limit: number) => ({ limits: { attemptLimit: limit }, destinations: loopbackDestinations() }),
        }),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    expect(app.get(WebhookSubscriptionManager)['options'].limits.attemptLimit).toBe(7);
  });

  it('a bad option stops the application at start with a message naming the option', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [EventEmitterModule.forRoot(), WebhooksModule.forRoot({ delivery: { timeoutMs: -5 } })],
    });
    await expect(moduleRef.compile()).rejects.toThrow(WebhooksConfigurationError);
    await expect(
      Test.createTestingModule({ imports: [EventEmitterModule.forRoot(), WebhooksModule.forRoot({ destinations: { allowPrivateNetworks: ['not-a-cidr'] } })] }).compile(),
    ).rejects.toThrow(/destinations.allowPrivateNetworks/);
  });

  it('each service can be replaced by the application with a custom provider', async () => {
    class PermissiveNothingValidator extends WebhookDestinationValidator {
      override async validateSubscriptionUrl(): Promise<void> {
        throw Object.assign(new Error('custom validator says no'), { code: 'custom' });
      }
    }
    app = await createWebhooksApp({ overrides: [{ provide: WebhookDestinationValidator, useClass: PermissiveNothingValidator }] });
    expect(app.get(WebhookDestinationValidator)).toBeInstanceOf(PermissiveNothingValidator);
    await expect(app.get(WebhookSubscriptionManager).create({ url: 'https://example.com/' })).rejects.toThrow('custom validator says no');
  });

  it('dialects registered with @WebhookDialectProvider are discovered at bootstrap', async () => {
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ providers: [DiscoveredDialect] });
    expect(app.get(WebhookDialectRegistry).names()).toEqual(expect.arrayContaining(['standard', 'discovered']));
    await app.get(WebhookSubscriptionManager).create({ url: receiver.url, dialect: 'discovered' });
    app.get(EventEmitter2).emit('thing.happened', { a: 1 });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect(receiver.requests.map((r) => r.method)).toEqual(['PUT']);
  });

  it('a throwing application listener and a throwing dialect never break emit(), and other subscribers still get the event', async () => {
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ providers: [ThrowingListener], webhooks: { dialects: { exploding: new ExplodingDialect() } } });
    const subscriptions = app.get(WebhookSubscriptionManager);
    const { subscription: broken } = await subscriptions.create({ url: receiver.url, dialect: 'exploding' });
    const { subscription: healthy } = await subscriptions.create({ url: receiver.url });
    const failedEvents: unknown[] = [];
    app.get(EventEmitter2).on(WebhookEvents.AttemptFailed, (e) => failedEvents.push(e));
    // @nestjs/event-emitter logs the application's own listener error; the webhook listener adds none.
    expect(() => app!.get(EventEmitter2).emit('order.created', { id: 1 })).not.toThrow();
    app.get(EventEmitter2).emit('order.updated', { id: 1 });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const [brokenAttempt] = await app.get(WebhookDeliveryManager).listAttempts(broken.id);
    expect(brokenAttempt).toMatchObject({ status: 'failed', message: 'The payload could not be externalized for delivery.' });
    expect(brokenAttempt!.internal.exceptionHistory[0]).toContain('dialect exploded');
    expect(await app.get(WebhookDeliveryManager).listAttempts(healthy.id)).toHaveLength(2);
    expect(receiver.requests).toHaveLength(2);
    expect(failedEvents.length).toBeGreaterThanOrEqual(1);
  });

  it('ownerRemoval.event deletes the owner’s subscriptions when the application emits it', async () => {
    app = await createWebhooksApp({ webhooks: { ownerRemoval: { event: 'user.deleted' } } });
    const subscriptions = app.get(WebhookSubscriptionManager);
    await subscriptions.create({ url: 'https://127.0.0.1:9/a', ownerId: 'alice' });
    await subscriptions.create({ url: 'https://127.0.0.1:9/b', ownerId: 'alice' });
    await subscriptions.create({ url: 'https://127.0.0.1:9/c', ownerId: 'bob' });
    app.get(EventEmitter2).emit('user.deleted', { id: 'alice', name: 'Alice' });
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    expect((await subscriptions.list()).map((s) => s.ownerId)).toEqual(['bob']);
  });

  it('trusts extra CAs only when configured', async () => {
    receiver = await TestReceiver.start();
    app = await createWebhooksApp({ webhooks: { destinations: { tls: { ca: undefined }, allowPrivateNetworks: ['127.0.0.1/32'] }, delivery: { retrySchedule: [] } } });
    const { subscription } = await app.get(WebhookSubscriptionManager).create({ url: receiver.url });
    app.get(EventEmitter2).emit('order.created', {});
    await app.get(WebhookDeliveryManager).waitForPendingDeliveries();
    const [attempt] = await app.get(WebhookDeliveryManager).listAttempts(subscription.id);
    expect(attempt).toMatchObject({ status: 'failed', message: 'Contacting the remote server experienced an unexpected error.' });
    expect(attempt!.history[0]!.errorCode).toBe('tls');
    expect(receiver.requests).toHaveLength(0);
    expect(testTls.ca).toContain('BEGIN CERTIFICATE');
  });
});

export type { WebhookRequestContext };
