import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

/** Attempt ids are UUIDv7s. */
const ATTEMPT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

export class ListAttemptsQueryDto {
  @ApiPropertyOptional({ enum: ['pending', 'successful', 'failed'] })
  @IsOptional()
  @IsIn(['pending', 'successful', 'failed'])
  status?: 'pending' | 'successful' | 'failed';

  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'Cursor: the nextCursor of the previous page (an attempt id)', format: 'uuid' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(ATTEMPT_ID, { message: 'before must be the nextCursor of a previous page (an attempt id)' })
  before?: string;
}

export class AttemptRequestResponse {
  @ApiProperty() url!: string;
  @ApiProperty() method!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' }, description: 'Signatures and credentials are [redacted]' })
  headers!: Record<string, string>;
  @ApiProperty() body!: string;
  @ApiProperty() sentAt!: Date;
}

export class AttemptResponseResponse {
  @ApiProperty() statusCode!: number;
  @ApiProperty() reason!: string;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) headers!: Record<string, string>;
  @ApiProperty({ description: 'Capped at the configured size' }) body!: string;
  @ApiProperty() truncated!: boolean;
  @ApiProperty() elapsedMs!: number;
}

export class AttemptTryResponse {
  @ApiProperty() number!: number;
  @ApiProperty() startedAt!: Date;
  @ApiProperty() elapsedMs!: number;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty() message!: string;
  @ApiProperty({ nullable: true, type: String }) errorCode!: string | null;
}

export class AttemptSummaryResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'The webhook-id header; stays the same across retries and redeliveries' }) webhookId!: string;
  @ApiProperty() subscriptionId!: string;
  @ApiProperty() eventName!: string;
  @ApiProperty({ enum: ['pending', 'successful', 'failed'] }) status!: string;
  @ApiProperty({ nullable: true, type: String, example: '200 OK' }) message!: string | null;
  @ApiProperty({ nullable: true, type: Number }) statusCode!: number | null;
  @ApiProperty() tries!: number;
  @ApiProperty({ nullable: true, type: Date }) nextAttemptAt!: Date | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class AttemptDetailResponse extends AttemptSummaryResponse {
  @ApiProperty({ type: AttemptRequestResponse, nullable: true }) request!: AttemptRequestResponse | null;
  @ApiProperty({ type: AttemptResponseResponse, nullable: true }) response!: AttemptResponseResponse | null;
  @ApiProperty({ type: [AttemptTryResponse] }) history!: AttemptTryResponse[];
}

export class AttemptPageResponse {
  @ApiProperty({ type: [AttemptSummaryResponse] }) data!: AttemptSummaryResponse[];
  @ApiProperty({ nullable: true, type: String, description: 'Pass as ?before= for the next page' }) nextCursor!: string | null;
}
