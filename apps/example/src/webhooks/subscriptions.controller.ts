import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Inject, Param, Patch, Post, Query, UseGuards } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { WebhookDeliveryManager, WebhookPublisher, WebhookSubscriptionManager } from 'nest-webhooks';
import { type ResolvedWebhooksOptions, WEBHOOKS_OPTIONS } from 'nest-webhooks/extensions';
import { ApiKeyGuard, CurrentOwner } from '../auth/api-key.guard.js';
import { ApiErrorResponses, BODY_ERRORS, QUERY_ERRORS } from '../common/api-responses.js';
import { AttemptPageResponse, AttemptSummaryResponse, ListAttemptsQueryDto } from './dto/attempt.dto.js';
import { DEFAULT_PAGE_SIZE, page } from './dto/pagination.js';
import { CreateSubscriptionDto, RotateSecretDto, UpdateSubscriptionDto } from './dto/subscription-input.dto.js';
import { CreatedSubscriptionResponse, ListSubscriptionsQueryDto, SecretResponse, SubscriptionPageResponse, SubscriptionResponse } from './dto/subscription.dto.js';
import { OwnedSubscriptions } from './owned-subscriptions.js';
import { OWNER_SCOPES } from './owner-scopes.js';
import { decodeSubscriptionCursor, encodeSubscriptionCursor } from './subscription-cursor.js';
import { attemptSummaryView, subscriptionView } from './webhook-views.js';

export const TEST_EVENT = 'webhook.test';

const ID = ApiParam({ name: 'id', description: 'The subscription id (from the create or list answer)', format: 'uuid' });
const NOT_ACTIVE = { [HttpStatus.CONFLICT]: 'The subscription is not active: activate it first' };

@ApiTags('webhook subscriptions')
@ApiBearerAuth()
@ApiErrorResponses([HttpStatus.UNAUTHORIZED])
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
    operationId: 'createSubscription',
    summary: 'Create a subscription',
    description:
      "Validates the destination and starts delivering matching events at once. The subscription lives in the caller's tenant scope " +
      '(WEBHOOKS_OWNER_SCOPES) and receives the orders of that scope and the scopes below it. The answer holds the signing secret ' +
      '(generated, or the one supplied): the only time it is shown.',
  })
  @ApiCreatedResponse({ type: CreatedSubscriptionResponse, description: 'Created; `secret` is shown only here' })
  @ApiErrorResponses(BODY_ERRORS)
  async create(@CurrentOwner() ownerId: string, @Body() body: CreateSubscriptionDto): Promise<CreatedSubscriptionResponse> {
    const { subscription, secret } = await this.subscriptions.create({ ...body, ownerId, scope: this.ownerScopes.get(ownerId) ?? null });
    return { ...subscriptionView(subscription), secret };
  }

  @Get()
  @ApiOperation({
    operationId: 'listSubscriptions',
    summary: "List the caller's subscriptions",
    description: 'Oldest first, a page at a time: pass `nextCursor` as `?after=` for the next page (null on the last). Never shows a secret.',
  })
  @ApiOkResponse({ type: SubscriptionPageResponse, description: 'One page' })
  @ApiErrorResponses(QUERY_ERRORS)
  async list(@CurrentOwner() ownerId: string, @Query() query: ListSubscriptionsQueryDto): Promise<SubscriptionPageResponse> {
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const after = query.after !== undefined ? decodeSubscriptionCursor(query.after)! : undefined;
    return page(await this.owned.list(ownerId, { limit: limit + 1, after }), limit, subscriptionView, encodeSubscriptionCursor);
  }

  @Get(':id')
  @ID
  @ApiOperation({ operationId: 'getSubscription', summary: 'Get a subscription', description: 'Never shows the secret or header values; URL credentials are masked.' })
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription' })
  @ApiErrorResponses([...QUERY_ERRORS, HttpStatus.NOT_FOUND])
  async get(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    return subscriptionView(await this.owned.subscription(ownerId, id, 'view'));
  }

  @Patch(':id')
  @ID
  @ApiOperation({
    operationId: 'updateSubscription',
    summary: 'Change a subscription',
    description: 'Omitted fields stay; `null` resets payloadType, dialect, description and retrySchedule. A new URL is validated again.',
  })
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription as changed' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND])
  async update(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: UpdateSubscriptionDto): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    return subscriptionView(await this.subscriptions.update(id, body));
  }

  @Delete(':id')
  @ID
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ operationId: 'deleteSubscription', summary: 'Delete a subscription', description: 'Deletes it with its attempt history; pending deliveries are dropped.' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrorResponses([...QUERY_ERRORS, HttpStatus.NOT_FOUND])
  async delete(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<void> {
    await this.owned.subscription(ownerId, id, 'delete');
    await this.subscriptions.delete(id);
  }

  @Post(':id/activate')
  @ID
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'activateSubscription',
    summary: 'Activate a subscription',
    description: 'It receives events again; its status message becomes Active and its failure counters are reset. Idempotent.',
  })
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription, active' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND])
  async activate(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    await this.subscriptions.activate(id);
    return subscriptionView(await this.subscriptions.require(id));
  }

  @Post(':id/deactivate')
  @ID
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'deactivateSubscription',
    summary: 'Deactivate a subscription',
    description: 'It keeps its history and gets no new attempts; pending retries are cancelled. Idempotent.',
  })
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The subscription, inactive' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND])
  async deactivate(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<SubscriptionResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    await this.subscriptions.deactivate(id);
    return subscriptionView(await this.subscriptions.require(id));
  }

  @Post(':id/rotate-secret')
  @ID
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    operationId: 'rotateSubscriptionSecret',
    summary: 'Rotate the signing secret',
    description:
      'Issues a new signing secret (generated, or the one supplied), shown only in this answer. The previous one keeps signing ' +
      'beside it for `overlapSeconds`, so receivers switch without losing a delivery.',
  })
  @ApiOkResponse({ type: SecretResponse, description: 'The new secret' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND])
  async rotateSecret(@CurrentOwner() ownerId: string, @Param('id') id: string, @Body() body: RotateSecretDto): Promise<SecretResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    const overlapMs = body.overlapSeconds !== undefined ? body.overlapSeconds * 1000 : this.options.secrets.rotationOverlapMs;
    const { secret } = await this.subscriptions.rotateSecret(id, overlapMs, body.secret);
    return { secret, previousSecretExpiresAt: new Date(Date.now() + overlapMs) };
  }

  @Post(':id/test')
  @ID
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    operationId: 'sendTestEvent',
    summary: 'Send a test event',
    description: `Sends a \`${TEST_EVENT}\` event to this subscription only, signed like any other; answers at once with the new attempt.`,
  })
  @ApiAcceptedResponse({ type: AttemptSummaryResponse, description: 'The attempt, to follow with GET /webhooks/attempts/{id}' })
  @ApiErrorResponses([...BODY_ERRORS, HttpStatus.NOT_FOUND], NOT_ACTIVE)
  async test(@CurrentOwner() ownerId: string, @Param('id') id: string): Promise<AttemptSummaryResponse> {
    await this.owned.subscription(ownerId, id, 'update');
    const attempt = await this.publisher.publishTo(id, TEST_EVENT, { subscriptionId: id, message: 'This is a test event from nest-webhooks.' });
    return attemptSummaryView(attempt);
  }

  @Get(':id/attempts')
  @ID
  @ApiOperation({
    operationId: 'listSubscriptionAttempts',
    summary: "List a subscription's attempts",
    description: 'Newest first, a page at a time: pass `nextCursor` as `?before=` for the next page (null on the last).',
  })
  @ApiOkResponse({ type: AttemptPageResponse, description: 'One page' })
  @ApiErrorResponses([...QUERY_ERRORS, HttpStatus.NOT_FOUND])
  async attempts(@CurrentOwner() ownerId: string, @Param('id') id: string, @Query() query: ListAttemptsQueryDto): Promise<AttemptPageResponse> {
    await this.owned.subscription(ownerId, id, 'view');
    const limit = query.limit ?? DEFAULT_PAGE_SIZE;
    const rows = await this.delivery.listAttempts(id, { status: query.status, before: query.before, limit: limit + 1 });
    return page(rows, limit, attemptSummaryView, (attempt) => attempt.id);
  }
}
