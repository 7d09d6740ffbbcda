import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { IsPageLimit } from './pagination.js';

/** Attempt ids are UUIDv7s. */
const ATTEMPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const STATUSES = ['pending', 'successful', 'failed'];

/** GET /webhooks/subscriptions/:id/attempts: newest first, by pages. */
export class ListAttemptsQueryDto {
  @ApiPropertyOptional({ enum: STATUSES, description: 'Only attempts with this status' })
  @IsOptional()
  @IsIn(STATUSES)
  status?: 'pending' | 'successful' | 'failed';

  @IsPageLimit()
  limit?: number;

  @ApiPropertyOptional({
    type: 'string',
    pattern: ATTEMPT_ID.source,
    description: 'Cursor: the nextCursor of the previous page (an attempt id); anything else is refused with 400',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(ATTEMPT_ID, { message: 'before must be the nextCursor of a previous page (an attempt id)' })
  before?: string;
}

export class AttemptRequestResponse {
  @ApiProperty({ description: 'As sent, with user-info and token-like query values masked (***)', example: 'https://***@example.com/webhooks?token=***' })
  url!: string;
  @ApiProperty({ example: 'POST' }) method!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Signatures and credentials are [redacted]' })
  headers!: Record<string, string>;
  @ApiProperty() body!: string;
  @ApiProperty() sentAt!: Date;
}

export class AttemptResponseResponse {
  @ApiProperty({ type: 'integer', example: 200 }) statusCode!: number;
  @ApiProperty({ example: 'OK' }) reason!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty({ description: 'Capped at the configured size' }) body!: string;
  @ApiProperty() truncated!: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Whole milliseconds' }) elapsedMs!: number;
}

export class AttemptTryResponse {
  @ApiProperty({ type: 'integer', minimum: 1 }) number!: number;
  @ApiProperty() startedAt!: Date;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'Whole milliseconds' }) elapsedMs!: number;
  @ApiProperty({ type: 'integer', nullable: true }) statusCode!: number | null;
  @ApiProperty() message!: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'Why the request failed without a response (e.g. timeout, dns)' }) errorCode!: string | null;
}

/** An attempt in lists, and the answer to a test event or a redelivery. */
export class AttemptSummaryResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ description: 'The webhook-id header; stays the same across retries and redeliveries' }) webhookId!: string;
  @ApiProperty({ format: 'uuid' }) subscriptionId!: string;
  @ApiProperty({ example: 'order.created' }) eventName!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ type: 'string', nullable: true, example: '200 OK' }) message!: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'Of the last response' }) statusCode!: number | null;
  @ApiProperty({ type: 'integer', minimum: 0 }) tries!: number;
  @ApiProperty({ type: 'string', format: 'date-time', nullable: true }) nextAttemptAt!: Date | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class AttemptDetailResponse extends AttemptSummaryResponse {
  @ApiProperty({ type: AttemptRequestResponse, nullable: true, description: 'The last request sent; null before the first try' })
  request!: AttemptRequestResponse | null;
  @ApiProperty({ type: AttemptResponseResponse, nullable: true, description: 'The last response; null before one came' })
  response!: AttemptResponseResponse | null;
  @ApiProperty({ type: [AttemptTryResponse] }) history!: AttemptTryResponse[];
}

export class AttemptPageResponse {
  @ApiProperty({ type: [AttemptSummaryResponse] }) data!: AttemptSummaryResponse[];
  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as ?before= for the next page; null on the last page' }) nextCursor!: string | null;
}
