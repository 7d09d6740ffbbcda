import { Injectable, NotFoundException } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { Transactional, TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import type { CreateOrderDto, UpdateOrderDto } from './dto/order.dto.js';
import { Order } from './order.entity.js';

/**
 * Orders change inside a transaction and announce it with `emit()`: the webhook attempts join that
 * transaction (outbox), so a rolled-back change sends nothing and a committed one is always delivered.
 */
@Injectable()
export class OrdersService {
  constructor(
    private readonly tx: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly events: EventEmitter2,
  ) {}

  @Transactional()
  async create(ownerId: string, input: CreateOrderDto): Promise<Order> {
    const order = await this.tx.tx.save(Order, this.tx.tx.create(Order, { ...input, ownerId }));
    this.events.emit('order.created', order);
    return order;
  }

  @Transactional()
  async update(ownerId: string, id: string, input: UpdateOrderDto): Promise<Order> {
    const order = await this.owned(ownerId, id);
    Object.assign(order, input);
    const saved = await this.tx.tx.save(Order, order);
    this.events.emit('order.updated', saved);
    return saved;
  }

  @Transactional()
  async delete(ownerId: string, id: string): Promise<void> {
    const order = await this.owned(ownerId, id);
    await this.tx.tx.delete(Order, { id: order.id });
    this.events.emit('order.deleted', order);
  }

  private async owned(ownerId: string, id: string): Promise<Order> {
    const order = /^[0-9a-f-]{36}$/i.test(id) ? await this.tx.tx.findOneBy(Order, { id, ownerId }) : null;
    if (!order) throw new NotFoundException();
    return order;
  }
}
