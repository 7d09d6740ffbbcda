import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Validate, type ValidatorConstraintInterface, ValidatorConstraint } from 'class-validator';
import { decodeSubscriptionCursor, SUBSCRIPTION_CURSOR_PATTERN } from '../subscription-cursor.js';
import { IsPageLimit } from './pagination.js';

@ValidatorConstraint({ name: 'isSubscriptionCursor' })
class IsSubscriptionCursor implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return decodeSubscriptionCursor(value) !== null;
  }

  defaultMessage(): string {
    return 'after must be the nextCursor of a previous page';
  }
}

/** GET /webhooks/subscriptions: oldest first, by pages. */
export class ListSubscriptionsQueryDto {
  @IsPageLimit()
  limit?: number;

  @ApiPropertyOptional({
    type: 'string',
    pattern: SUBSCRIPTION_CURSOR_PATTERN,
    description: 'Cursor: the nextCursor of the previous page (opaque; anything else is refused with 400)',
  })
  @IsOptional()
  @Validate(IsSubscriptionCursor)
  after?: string;
}

export class SubscriptionResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'Destination; user-info and token-like query values are masked with ***', example: 'https://***@example.com/webhooks?token=***' })
  url!: string;
  @ApiProperty({ type: [String], example: ['order.*'] }) events!: string[];
  @ApiProperty({ type: 'string', nullable: true, example: 'Order' }) payloadType!: string | null;
  @ApiProperty({ type: 'string', nullable: true }) dialect!: string | null;
  @ApiProperty({ type: 'string', nullable: true, description: "The owner's tenant scope (`/acme/sales`); null: global" }) scope!: string | null;
  @ApiProperty() ownerId!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ example: 'Active' }) statusMessage!: string;
  @ApiProperty({ type: 'string', nullable: true }) description!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
  @ApiProperty({ type: [String], description: 'Names of the extra request headers (values are write-only)' }) headerNames!: string[];
  @ApiProperty({ type: 'array', items: { type: 'integer' }, nullable: true, description: "Milliseconds before each retry; null: the server's schedule" })
  retrySchedule!: number[] | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

/** The answer to a create: the subscription and its signing secret, the only time the secret is shown. */
export class CreatedSubscriptionResponse extends SubscriptionResponse {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The signing secret in effect (generated, or the one supplied); shown only in this response',
  })
  secret!: string;
}

export class SecretResponse {
  @ApiProperty({ example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: 'The new signing secret (generated, or the one supplied); shown only in this response' })
  secret!: string;
  @ApiProperty({ description: 'Until when the previous secret keeps signing' }) previousSecretExpiresAt!: Date;
}

export class SubscriptionPageResponse {
  @ApiProperty({ type: [SubscriptionResponse] }) data!: SubscriptionResponse[];
  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as ?after= for the next page; null on the last page' }) nextCursor!: string | null;
}
