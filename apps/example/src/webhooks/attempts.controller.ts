import { Controller, Get, HttpCode, HttpStatus, Param, Post, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { WebhookDeliveryManager } from 'nest-webhooks';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { AttemptDetailResponse, AttemptSummaryResponse } from './dto/attempt.dto.js';
import { OwnedSubscriptions } from './owned-subscriptions.js';
import { attemptDetailView, attemptSummaryView } from './webhook-views.js';

@ApiTags('webhook attempts')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or unknown API key' })
@UseGuards(ApiKeyGuard)
@Controller('webhooks/attempts')
export class AttemptsController {
  constructor(
    private readonly delivery: WebhookDeliveryManager,
    private readonly owned: OwnedSubscriptions,
  ) {}

  @Get(':id')
  @ApiOperation({ summary: 'One attempt with its request (signatures and credentials redacted) and capped response' })
  @ApiOkResponse({ type: AttemptDetailResponse })
  @ApiNotFoundResponse()
  async get(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<AttemptDetailResponse> {
    return attemptDetailView(await this.owned.attempt(ownerId, id, 'view'));
  }

  @Post(':id/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Send the same event again, with the same webhook-id' })
  @ApiAcceptedResponse({ type: AttemptSummaryResponse })
  @ApiNotFoundResponse()
  async redeliver(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<AttemptSummaryResponse> {
    await this.owned.attempt(ownerId, id, 'update');
    return attemptSummaryView(await this.delivery.redeliver(id));
  }
}
