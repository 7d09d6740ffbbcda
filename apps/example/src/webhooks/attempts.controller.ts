import { Controller, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { ApiErrorResponses, BODY_ERRORS, QUERY_ERRORS } from '../common/api-responses.js';
import { AttemptDetailResponse, AttemptSummaryResponse } from './dto/attempt.dto.js';
import { OwnedSubscriptions } from './owned-subscriptions.js';
import { attemptDetailView, attemptSummaryView } from './webhook-views.js';

const ID = ApiParam({ name: 'id', description: 'The attempt id (from an attempt list, a test event or a redelivery)', format: 'uuid' });

@ApiTags('webhook attempts')
@ApiBearerAuth()
@ApiErrorResponses([HttpStatus.UNAUTHORIZED])
@UseGuards(ApiKeyGuard)
@Controller('webhooks/attempts')
export class AttemptsController {
  constructor(
    private readonly delivery: WebhookDeliveryManager,
    private readonly owned: OwnedSubscriptions,
  ) {}

  @Get(':id')
  @ID
  @ApiOperation({
    operationId: 'getAttempt',
    summary: 'Get an attempt',
    description: 'The attempt with its last request (signatures and credentials redacted), its capped last response and every try.',
  })
  @ApiOkResponse({ type: AttemptDetailResponse, description: 'The attempt' })
  @ApiErrorResponses([...QUERY_ERRORS, HttpStatus.NOT_FOUND])
  async get(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<AttemptDetailResponse> {
    return attemptDetailView(await this.owned.attempt(ownerId, id, 'view'));
  }

  @Post(':id/redeliver')
  @ID
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'redeliverAttempt',
    summary: 'Redeliver an attempt',
    description: 'Sends the same event again, with the same webhook-id, as a new attempt; answers at once with it.',
  })
  @ApiAcceptedResponse({ type: AttemptSummaryResponse, description: 'The new attempt' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND], {
    [HttpStatus.CONFLICT]: 'The attempt is still pending (it is retried on its own schedule), or its subscription is not active',
  })
  async redeliver(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<AttemptSummaryResponse> {
    await this.owned.attempt(ownerId, id, 'update');
    return attemptSummaryView(await this.delivery.redeliver(id));
  }
}
