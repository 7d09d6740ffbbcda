import { Body, Controller, Delete, HttpCode, HttpStatus, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { CreateOrderDto, OrderResponse, UpdateOrderDto } from './dto/order.dto.js';
import type { Order } from './order.entity.js';
import { OrdersService } from './orders.service.js';

const view = (o: Order): OrderResponse => ({ id: o.id, item: o.item, quantity: o.quantity, createdAt: o.createdAt, updatedAt: o.updatedAt });

@ApiTags('demo: orders')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({ summary: 'Place an order; emits order.created' })
  @ApiCreatedResponse({ type: OrderResponse })
  async create(@CurrentOwner() ownerId: string, @Body() body: CreateOrderDto): Promise<OrderResponse> {
    return view(await this.orders.create(ownerId, body));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change an order; emits order.updated' })
  @ApiOkResponse({ type: OrderResponse })
  @ApiNotFoundResponse()
  async update(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: UpdateOrderDto): Promise<OrderResponse> {
    return view(await this.orders.update(ownerId, id, body));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete an order; emits order.deleted' })
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async delete(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<void> {
    await this.orders.delete(ownerId, id);
  }
}
