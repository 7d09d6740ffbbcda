import { Body, Controller, Delete, HttpCode, HttpStatus, Param, Patch, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { ApiErrorResponses, BODY_ERRORS, QUERY_ERRORS } from '../common/api-responses.js';
import { CreateOrderDto, OrderResponse, UpdateOrderDto } from './dto/order.dto.js';
import type { Order } from './order.entity.js';
import { OrdersService } from './orders.service.js';

const view = (o: Order): OrderResponse => ({ id: o.id, item: o.item, quantity: o.quantity, createdAt: o.createdAt, updatedAt: o.updatedAt });
const ID = ApiParam({ name: 'id', description: 'The order id (from the create answer)', format: 'uuid' });

@ApiTags('demo: orders')
@ApiBearerAuth()
@ApiErrorResponses([HttpStatus.UNAUTHORIZED])
@UseGuards(ApiKeyGuard)
@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  @ApiOperation({
    operationId: 'createOrder',
    summary: 'Place an order',
    description: "Emits order.created in the order's transaction: the caller's matching subscriptions get it once the order is stored.",
  })
  @ApiCreatedResponse({ type: OrderResponse, description: 'The order' })
  @ApiErrorResponses(BODY_ERRORS)
  async create(@CurrentOwner() ownerId: string, @Body() body: CreateOrderDto): Promise<OrderResponse> {
    return view(await this.orders.create(ownerId, body));
  }

  @Patch(':id')
  @ID
  @ApiOperation({ operationId: 'updateOrder', summary: 'Change an order', description: "Emits order.updated in the order's transaction." })
  @ApiOkResponse({ type: OrderResponse, description: 'The order as changed' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND])
  async update(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: UpdateOrderDto): Promise<OrderResponse> {
    return view(await this.orders.update(ownerId, id, body));
  }

  @Delete(':id')
  @ID
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteOrder', summary: 'Delete an order', description: "Emits order.deleted in the order's transaction." })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses([...QUERY_ERRORS, HttpStatus.NOT_FOUND])
  async delete(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<void> {
    await this.orders.delete(ownerId, id);
  }
}
