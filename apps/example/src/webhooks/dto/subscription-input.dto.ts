import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { IsOmittable } from '../../common/validation.js';
import {
  IsApiPayloadType,
  IsDeliveryHeaders,
  IsDestinationUrl,
  IsEventPatterns,
  IsMetadata,
  IsRetrySchedule,
  IsSigningSecret,
} from './subscription-fields.js';

const MAX_DIALECT_LENGTH = 64;
const MAX_DESCRIPTION_LENGTH = 1000;
const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;

/** POST /webhooks/subscriptions. */
export class CreateSubscriptionDto {
  @IsDestinationUrl({ required: true })
  url!: string;

  @IsEventPatterns()
  events?: string[];

  @IsApiPayloadType()
  payloadType?: string;

  @ApiPropertyOptional({ maxLength: MAX_DIALECT_LENGTH, example: 'standard', description: "How deliveries are shaped and signed; default the server's (Standard Webhooks)" })
  @IsOmittable()
  @IsString()
  @MaxLength(MAX_DIALECT_LENGTH)
  dialect?: string;

  @ApiPropertyOptional({ maxLength: MAX_DESCRIPTION_LENGTH, example: 'Production order feed' })
  @IsOmittable()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string;

  @IsMetadata()
  metadata?: Record<string, string>;

  @IsDeliveryHeaders('Extra request headers sent with every delivery; write-only (responses show only headerNames)')
  headers?: Record<string, string>;

  @IsRetrySchedule()
  retrySchedule?: number[] | null;

  @IsSigningSecret('A signing secret of your own (e.g. moving from another sender)')
  secret?: string;
}

/** PATCH: omitted fields stay; `null` resets payloadType, dialect, description and retrySchedule; the others cannot be null. */
export class UpdateSubscriptionDto {
  @IsDestinationUrl({ required: false })
  url?: string;

  @IsEventPatterns()
  events?: string[];

  @IsApiPayloadType({ nullable: true })
  payloadType?: string | null;

  @ApiPropertyOptional({ type: 'string', nullable: true, maxLength: MAX_DIALECT_LENGTH, example: 'standard', description: "null: the server's" })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DIALECT_LENGTH)
  dialect?: string | null;

  @ApiPropertyOptional({ type: 'string', nullable: true, maxLength: MAX_DESCRIPTION_LENGTH })
  @IsOptional()
  @IsString()
  @MaxLength(MAX_DESCRIPTION_LENGTH)
  description?: string | null;

  @IsMetadata('Replaces all metadata: up to 50 strings (keys 1-64 characters, values at most 1000)')
  metadata?: Record<string, string>;

  @IsDeliveryHeaders('Replaces all extra request headers')
  headers?: Record<string, string>;

  @IsRetrySchedule()
  retrySchedule?: number[] | null;
}

/** POST /webhooks/subscriptions/:id/rotate-secret. */
export class RotateSecretDto {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_OVERLAP_SECONDS,
    example: 86400,
    description: 'Seconds the previous secret keeps signing beside the new one (default 24 h, at most 30 days)',
  })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(MAX_OVERLAP_SECONDS)
  overlapSeconds?: number;

  @IsSigningSecret('The new signing secret, of your own')
  secret?: string;
}
