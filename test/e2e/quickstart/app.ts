import { Injectable, Module } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { WebhooksModule, WebhookSubscriptionManager } from 'nest-webhooks';

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
    WebhooksModule.forRoot({
      // Local development: allow http:// and loopback receivers. Production keeps the safe defaults
      // (HTTPS only; private, loopback and metadata addresses refused).
      destinations: process.env.NODE_ENV === 'production' ? {} : { allowHttp: true, allowPrivateNetworks: ['127.0.0.0/8', '::1/128'] },
    }), // memory store; see docs/ for TypeORM, retries, destinations
  ],
  providers: [Orders],
})
export class AppModule {}
