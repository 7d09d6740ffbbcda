import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { type ResolvedWebhooksOptions, WEBHOOKS_OPTIONS } from 'nest-webhooks/extensions';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { AttemptPageResponse, ListAttemptsQueryDto } from './dto/attempt.dto.js';
import {
  CreatedSubscriptionResponse,
  CreateSubscriptionDto,
  RotateSecretDto,
  SecretResponse,
  SubscriptionResponse,
  UpdateSubscriptionDto,
} from './dto/subscription.dto.js';
import { OwnedSubscriptions } from './owned-subscriptions.js';
import { attemptSummaryView, subscriptionView } from './webhook-views.js';
import { OWNER_SCOPES } from './owner-scopes.js';

export const TEST_EVENT = 'webhook.test';

@ApiTags('webhook subscriptions')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'Missing or unknown API key' })
@UseGuards(ApiKeyGuard)
@Controller('webhooks/subscriptions')
export class SubscriptionsController {
  constructor(
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly delivery: WebhookDeliveryManager,
    private readonly publisher: WebhookPublisher,
    private readonly owned: OwnedSubscriptions,
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    @Inject(OWNER_SCOPES) private readonly ownerScopes: Map<string, string>,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Create a subscription; the response holds its signing secret, shown only here',
    description: "It lives in the caller's tenant scope (WEBHOOKS_OWNER_SCOPES) and receives the orders of that scope and the scopes below it.",
  })
  @ApiCreatedResponse({ type: CreatedSubscriptionResponse })
  async create(@CurrentOwner() ownerId: string, @Body() body: CreateSubscriptionDto): Promise<CreatedSubscriptionResponse> {
    const { subscription, secret } = await this.subscriptions.create({ ...body, ownerId, scope: this.ownerScopes.get(ownerId) ?? null });
    return { ...subscriptionView(subscription), secret };
  }

  @Get()
  @ApiOperation({ summary: "List the caller's subscriptions" })
  @ApiOkResponse({ type: [SubscriptionResponse] })
  async list(@CurrentOwner() ownerId: string): Promise<SubscriptionResponse[]> {
    return (await this.owned.list(ownerId)).map(subscriptionView);
  }

  @Get(':id')
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse()
  async get(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    return subscriptionView(await this.owned.subscription(ownerId, id, 'view'));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a subscription; a new URL is validated again' })
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse()
  async update(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: UpdateSubscriptionDto): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    return subscriptionView(await this.subscriptions.update(id, body));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiNoContentResponse()
  @ApiNotFoundResponse()
  async delete(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<void> {
    await this.owned.subscription(ownerId, id, 'delete');
    await this.subscriptions.delete(id);
  }

  @Post(':id/activate')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse()
  async activate(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    await this.subscriptions.activate(id);
    return subscriptionView(await this.subscriptions.require(id));
  }

  @Post(':id/deactivate')
  @HttpCode(HttpStatus.OK)
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse()
  async deactivate(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    await this.subscriptions.deactivate(id);
    return subscriptionView(await this.subscriptions.require(id));
  }

  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Issue a new signing secret; the previous one keeps signing during the overlap' })
  @ApiOkResponse({ type: SecretResponse })
  @ApiNotFoundResponse()
  async rotateSecret(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: RotateSecretDto): Promise<SecretResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    const overlapMs = body.overlapSeconds !== undefined ? body.overlapSeconds * 1000 : this.options.secrets.rotationOverlapMs;
    const { secret } = await this.subscriptions.rotateSecret(id, overlapMs);
    return { secret, previousSecretExpiresAt: new Date(Date.now() + overlapMs) };
  }

  @Post(':id/test')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: `Send a ${TEST_EVENT} event to this subscription only` })
  @ApiAcceptedResponse({ schema: { properties: { attemptId: { type: 'string' } } } })
  @ApiNotFoundResponse()
  async test(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<{ attemptId: string }> {
    await this.owned.subscription(ownerId, id, 'update');
    const attempt = await this.publisher.publishTo(id, TEST_EVENT, { subscriptionId: id, message: 'This is a test event from nest-webhooks.' });
    return { attemptId: attempt.id };
  }

  @Get(':id/attempts')
  @ApiOperation({ summary: 'Attempts of a subscription, newest first' })
  @ApiOkResponse({ type: AttemptPageResponse })
  @ApiNotFoundResponse()
  async attempts(@CurrentOwner() ownerId: string, @Param('id') id: string, @Query() query: ListAttemptsQueryDto): Promise<AttemptPageResponse> {
    await this.owned.subscription(ownerId, id, 'view');
    const limit = query.limit ?? 50;
    const page = await this.delivery.listAttempts(id, { status: query.status, before: query.before, limit: limit + 1 });
    const data = page.slice(0, limit).map(attemptSummaryView);
    return { data, nextCursor: page.length > limit ? data[data.length - 1]!.id : null };
  }
}
