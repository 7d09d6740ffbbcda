import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  registerDecorator,
  type ValidationOptions,
} from 'class-validator';
import { IsOmittable } from '../../common/validation.js';

/** Bounds of a subscription's own retry schedule: a customer may shorten or lengthen it, not flood with it. */
export const MAX_RETRY_DELAYS = 20;
export const MIN_RETRY_DELAY_MS = 1000;
export const MAX_RETRY_DELAY_MS = 7 * 24 * 3600 * 1000;

/** `retrySchedule`: milliseconds before each retry, at most 20 of them, each from 1 s to 7 days. */
function IsRetrySchedule(): PropertyDecorator {
  return (target, propertyName) => {
    ApiPropertyOptional({
      type: [Number],
      nullable: true,
      maxItems: MAX_RETRY_DELAYS,
      example: [5000, 300000, 1800000],
      description: `Milliseconds before each retry (at most ${MAX_RETRY_DELAYS}, each ${MIN_RETRY_DELAY_MS} to ${MAX_RETRY_DELAY_MS}); [] means no retries, null the server's schedule`,
    })(target, propertyName);
    IsOptional()(target, propertyName);
    IsArray()(target, propertyName);
    ArrayMaxSize(MAX_RETRY_DELAYS)(target, propertyName);
    IsInt({ each: true, message: 'each value in retrySchedule must be an integer number of milliseconds' })(target, propertyName);
    Min(MIN_RETRY_DELAY_MS, { each: true, message: `each value in retrySchedule must be at least ${MIN_RETRY_DELAY_MS} ms` })(target, propertyName);
    Max(MAX_RETRY_DELAY_MS, { each: true, message: `each value in retrySchedule must be at most ${MAX_RETRY_DELAY_MS} ms (7 days)` })(target, propertyName);
  };
}

const EVENT_PATTERN = /^(?:\*\*|\*|[A-Za-z0-9_:-]+)(?:\.(?:\*\*|\*|[A-Za-z0-9_:-]+))*$/;

/** An object of at most 50 string values with safe keys. */
function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringRecord',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be an object of at most 50 string values (keys 1-64 characters)`, ...options },
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          const keys = Reflect.ownKeys(value);
          return (
            keys.length <= 50 &&
            keys.every(
              (k) =>
                typeof k === 'string' &&
                k.length > 0 &&
                k.length <= 64 &&
                !['__proto__', 'constructor', 'prototype'].includes(k) &&
                typeof (value as Record<string, unknown>)[k] === 'string' &&
                ((value as Record<string, string>)[k]!.length <= 1000),
            )
          );
        },
      },
    });
}

export class CreateSubscriptionDto {
  @ApiProperty({ example: 'https://example.com/webhooks', description: 'https:// destination (http:// only when WEBHOOKS_ALLOW_HTTP=true)' })
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url!: string;

  @ApiPropertyOptional({ type: [String], example: ['order.*'], description: 'EventEmitter2 patterns (`.` delimiter, `*`, `**`); default all events' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'each value in events must be an event pattern such as order.created, order.* or **' })
  events?: string[];

  @ApiPropertyOptional({ example: 'Order', description: 'Registered payload type name; default any payload' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  payloadType?: string;

  @ApiPropertyOptional({ example: 'standard' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  dialect?: string;

  @ApiPropertyOptional({ example: 'Production order feed' })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, example: { team: 'billing' } })
  @IsOptional()
  @IsObject()
  @IsStringRecord()
  metadata?: Record<string, string>;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    example: { authorization: 'Bearer receiver-token' },
    description: 'Extra request headers sent with every delivery; write-only (responses show only headerNames)',
  })
  @IsOptional()
  @IsObject()
  @IsStringRecord()
  headers?: Record<string, string>;

  @IsRetrySchedule()
  retrySchedule?: number[] | null;
}

/** PATCH: omitted fields stay; `null` resets payloadType, dialect and description; url, events, metadata cannot be null. */
export class UpdateSubscriptionDto {
  @ApiPropertyOptional({ example: 'https://example.com/webhooks' })
  @IsOmittable()
  @IsString()
  @MinLength(1)
  @MaxLength(2048)
  url?: string;

  @ApiPropertyOptional({ type: [String], example: ['order.*'] })
  @IsOmittable()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  @Matches(EVENT_PATTERN, { each: true, message: 'each value in events must be an event pattern such as order.created, order.* or **' })
  events?: string[];

  @ApiPropertyOptional({ nullable: true, type: String, example: 'Order' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  payloadType?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String, example: 'standard' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  dialect?: string | null;

  @ApiPropertyOptional({ nullable: true, type: String })
  @IsOptional()
  @IsString()
  @MaxLength(1000)
  description?: string | null;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOmittable()
  @IsObject()
  @IsStringRecord()
  metadata?: Record<string, string>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' }, description: 'Replaces all extra request headers' })
  @IsOmittable()
  @IsObject()
  @IsStringRecord()
  headers?: Record<string, string>;

  @IsRetrySchedule()
  retrySchedule?: number[] | null;
}

export class RotateSecretDto {
  @ApiPropertyOptional({ example: 86400, description: 'Seconds the previous secret keeps signing beside the new one (default 24 h)' })
  @IsOmittable()
  @IsInt()
  @Min(0)
  @Max(30 * 24 * 3600)
  overlapSeconds?: number;
}

export class SubscriptionResponse {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'Destination; user-info and token-like query values are masked' }) url!: string;
  @ApiProperty({ type: [String] }) events!: string[];
  @ApiProperty({ nullable: true, type: String }) payloadType!: string | null;
  @ApiProperty({ nullable: true, type: String }) dialect!: string | null;
  @ApiProperty({ nullable: true, type: String, description: "The owner's tenant scope (`/acme/sales`); null: global" }) scope!: string | null;
  @ApiProperty() ownerId!: string;
  @ApiProperty() active!: boolean;
  @ApiProperty({ example: 'Active' }) statusMessage!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) metadata!: Record<string, string>;
  @ApiProperty({ type: [String], description: 'Names of the extra request headers (values are write-only)' }) headerNames!: string[];
  @ApiProperty({ type: [Number], nullable: true, description: "Milliseconds before each retry; null: the server's schedule" }) retrySchedule!: number[] | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;
}

export class CreatedSubscriptionResponse extends SubscriptionResponse {
  @ApiProperty({ example: 'whsec_…', description: 'Signing secret; shown only in this response' })
  secret!: string;
}

export class SecretResponse {
  @ApiProperty({ example: 'whsec_…', description: 'The new signing secret; shown only in this response' }) secret!: string;
  @ApiProperty({ description: 'Until when the previous secret keeps signing' }) previousSecretExpiresAt!: Date;
}
