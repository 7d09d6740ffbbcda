// orders.module.ts
import { Injectable, Module } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';

@Injectable()
export class Orders {
  constructor(private readonly events: EventEmitter2) {}

  place(order: { id: string; total: number }): void {
    this.events.emit('order.placed', order);
  }
}

@Module({ providers: [Orders], exports: [Orders] })
export class OrdersModule {}
