import { Injectable, Module } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { WebhooksModule, WebhookSubscriptionManager } from '@app/webhooks';

@Injectable()
export class Orders {
  constructor(private readonly events: EventEmitter2, private readonly webhooks: WebhookSubscriptionManager) {}

  async subscribe(url: string) {
    const { subscription, secret } = await this.webhooks.create({ url, events: ['order.*'] });
    return { id: subscription.id, secret }; // the secret is shown once; receivers verify with it
  }

  place(order: { id: string; total: number }) {
    this.events.emit('order.created', order); // → POST {type, timestamp, data}, signed per Standard Webhooks
  }
}

@Module({
  imports: [
    EventEmitterModule.forRoot({ wildcard: true }),
    WebhooksModule.forRoot({}), // memory store; see docs/ for TypeORM, retries, destinations
  ],
  providers: [Orders],
})
export class AppModule {}
