import { Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ClsModule, ClsService } from 'nestjs-cls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookAuthorization, type WebhookAuthorizationRequest, WebhookAuthorizer, WebhookDeliveryManager, type WebhooksModuleOptions, WebhookSubscriptionManager } from 'nest-webhooks';
import { createTestDatabase, type TestDatabase, transactionalModules } from '../support/databases.js';
import { TestReceiver } from '../support/receiver.js';
import { TEST_SECRET_KEY } from '../support/sqlite.js';
import { createWebhooksApp } from '../support/webhooks-app.js';

/** Allows a document's webhook only when the acting user (from the request context) is the document's author. */
@Injectable()
class ActingUserAuthorizer extends WebhookAuthorizer {
  readonly asked: Array<{ document: string; actingUser: string | undefined }> = [];

  constructor(private readonly cls: ClsService) {
    super();
  }

  authorize(request: WebhookAuthorizationRequest): WebhookAuthorization {
    const actingUser = this.cls.get<string>('user');
    const document = request.payload as { id: string; author: string };
    this.asked.push({ document: document.id, actingUser });
    return actingUser === document.author ? WebhookAuthorization.Allowed : WebhookAuthorization.Denied;
  }
}

describe('the authorizer runs in the async context of each emit', () => {
  let app: INestApplication | undefined;
  let receiver: TestReceiver | undefined;
  let database: TestDatabase | undefined;

  afterEach(async () => {
    await app?.close();
    await receiver?.close();
    await database?.drop();
    app = receiver = database = undefined;
  });

  async function boot(storage: 'memory' | 'sqlite') {
    receiver = await TestReceiver.start();
    const webhooks: WebhooksModuleOptions = {};
    let before: unknown[] = [ClsModule.forRoot({ global: true })];
    if (storage === 'sqlite') {
      database = await createTestDatabase('sqlite');
      before = transactionalModules(database);
      Object.assign(webhooks, { storage: { type: 'typeorm' }, secrets: { encryptionKeys: [{ id: 'k', key: TEST_SECRET_KEY }] } });
    }
    app = await createWebhooksApp({ before, webhooks, authorizer: ActingUserAuthorizer });
    await app.get(WebhookSubscriptionManager).create({ url: receiver.url, events: ['document.*'], ownerId: 'tenant-1' });
    return { cls: app.get(ClsService), emitter: app.get(EventEmitter2), authorizer: app.get(WebhookAuthorizer) as ActingUserAuthorizer };
  }

  it.each(['memory', 'sqlite'] as const)('%s store: two emits in one tick under different users are each authorized as their own user', async (storage) => {
    const { cls, emitter, authorizer } = await boot(storage);
    // One synchronous stretch: both events are written by one phase 1, after both emits.
    cls.run(() => {
      cls.set('user', 'alice');
      emitter.emit('document.created', { id: 'd-alice', author: 'alice' });
    });
    cls.run(() => {
      cls.set('user', 'bob');
      emitter.emit('document.created', { id: 'd-bob', author: 'bob' });
    });
    cls.run(() => {
      cls.set('user', 'mallory');
      emitter.emit('document.created', { id: 'd-alice-2', author: 'alice' });
    });
    await app!.get(WebhookDeliveryManager).waitForPendingDeliveries();

    expect(authorizer.asked).toEqual([
      { document: 'd-alice', actingUser: 'alice' },
      { document: 'd-bob', actingUser: 'bob' },
      { document: 'd-alice-2', actingUser: 'mallory' },
    ]);
    expect(receiver!.requests.map((r) => JSON.parse(r.body).data.id).sort()).toEqual(['d-alice', 'd-bob']);
  });
});
