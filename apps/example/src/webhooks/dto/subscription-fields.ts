import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
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
import { RESERVED_HEADER_NAMES, RESERVED_HEADER_PREFIXES } from 'nest-webhooks/extensions';
import { IsOmittable } from '../../common/validation.js';
import { API_PAYLOAD_TYPES } from '../api-payload-types.js';

// Field rules shared by create and update: each decorator applies the validation and documents it in the OpenAPI schema.

/** Bounds of a subscription's own retry schedule: a customer may shorten or lengthen it, not flood with it. */
export const MAX_RETRY_DELAYS = 20;
export const MIN_RETRY_DELAY_MS = 1000;
export const MAX_RETRY_DELAY_MS = 7 * 24 * 3600 * 1000;
export const MAX_URL_LENGTH = 2048;
export const MAX_EVENT_PATTERNS = 100;
const MAX_PATTERN_LENGTH = 200;
/** The library's limit of extra headers a subscription sends. */
const MAX_HEADERS = 20;
const MAX_METADATA_KEYS = 50;
const MAX_RECORD_VALUE_LENGTH = 1000;
/** EventEmitter2 patterns: `.`-separated segments of letters, digits, `_`, `-`, `:`, or a whole `*` / `**`. */
const EVENT_PATTERN = /^(?:\*\*|\*|[A-Za-z0-9_:-]+)(?:\.(?:\*\*|\*|[A-Za-z0-9_:-]+))*$/;
/** `whsec_` + base64; the exact byte count (24-64) and canonical padding are the library's check. */
const SIGNING_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;
/** Header values: no control characters (they would split or truncate the header block). */
const HEADER_VALUE = '^[^\\u0000-\\u0008\\u000A-\\u001F\\u007F]*$';

/** Whether the decorated property may be `null` (PATCH resets) or only omitted. */
type Presence = { nullable?: boolean };

const optional = ({ nullable }: Presence): PropertyDecorator => (nullable ? IsOptional() : IsOmittable());

/** `url`: a string of 1-2048 characters; the destination policy (scheme, addresses) is the library's check. */
export function IsDestinationUrl({ required }: { required: boolean }): PropertyDecorator {
  return (target, key) => {
    (required ? ApiProperty : ApiPropertyOptional)({
      type: 'string',
      format: 'uri',
      minLength: 1,
      maxLength: MAX_URL_LENGTH,
      example: 'https://example.com/webhooks',
      description:
        'Where deliveries go: https:// (http:// only when the server allows it), to a public address unless the server allows ' +
        'private networks; checked again on every delivery. Shown back with user-info and token-like query values masked (***).',
    })(target, key);
    if (!required) IsOmittable()(target, key);
    IsString()(target, key);
    MinLength(1)(target, key);
    MaxLength(MAX_URL_LENGTH)(target, key);
  };
}

/** `events`: 1-100 event patterns. */
export function IsEventPatterns(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'array',
      items: { type: 'string', maxLength: MAX_PATTERN_LENGTH, pattern: EVENT_PATTERN.source },
      minItems: 1,
      maxItems: MAX_EVENT_PATTERNS,
      example: ['order.*'],
      description:
        'EventEmitter2 patterns: `.`-separated segments, `*` matches one segment and `**` any number (`**`: every event). ' +
        'Default: every event. Patterns under `webhooks.` (the library\'s own events) are refused.',
    })(target, key);
    IsOmittable()(target, key);
    IsArray()(target, key);
    ArrayMinSize(1)(target, key);
    ArrayMaxSize(MAX_EVENT_PATTERNS)(target, key);
    IsString({ each: true })(target, key);
    MaxLength(MAX_PATTERN_LENGTH, { each: true })(target, key);
    Matches(EVENT_PATTERN, { each: true, message: 'each value in events must be an event pattern such as order.created, order.* or **' })(target, key);
  };
}

/** `payloadType`: one of the payload types the API offers. */
export function IsApiPayloadType(presence: Presence = {}): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'string',
      // OpenAPI 3.0: a nullable enum lists null among its values.
      enum: presence.nullable ? [...API_PAYLOAD_TYPES, null] : [...API_PAYLOAD_TYPES],
      nullable: presence.nullable,
      description: `Only events whose payload is of this type (${API_PAYLOAD_TYPES.join(', ')}); default: any payload${presence.nullable ? '; null resets' : ''}`,
    })(target, key);
    optional(presence)(target, key);
    IsIn(API_PAYLOAD_TYPES, { message: `payloadType must be one of the payload types this API offers: ${API_PAYLOAD_TYPES.join(', ')}` })(target, key);
  };
}

/** `retrySchedule`: milliseconds before each retry, at most 20 of them, each from 1 s to 7 days. */
export function IsRetrySchedule(): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'array',
      items: { type: 'integer', minimum: MIN_RETRY_DELAY_MS, maximum: MAX_RETRY_DELAY_MS },
      nullable: true,
      maxItems: MAX_RETRY_DELAYS,
      example: [5000, 300000, 1800000],
      description: `Milliseconds before each retry (at most ${MAX_RETRY_DELAYS}, each ${MIN_RETRY_DELAY_MS} to ${MAX_RETRY_DELAY_MS}); [] means no retries, null the server's schedule`,
    })(target, key);
    IsOptional()(target, key);
    IsArray()(target, key);
    ArrayMaxSize(MAX_RETRY_DELAYS)(target, key);
    IsInt({ each: true, message: 'each value in retrySchedule must be an integer number of milliseconds' })(target, key);
    Min(MIN_RETRY_DELAY_MS, { each: true, message: `each value in retrySchedule must be at least ${MIN_RETRY_DELAY_MS} ms` })(target, key);
    Max(MAX_RETRY_DELAY_MS, { each: true, message: `each value in retrySchedule must be at most ${MAX_RETRY_DELAY_MS} ms (7 days)` })(target, key);
  };
}

/** An object of at most `maxKeys` string values (keys 1-64 characters, no prototype keys). */
function IsStringRecord(maxKeys: number, options?: ValidationOptions): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringRecord',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `${String(propertyName)} must be an object of at most ${maxKeys} string values (keys 1-64 characters)`, ...options },
      validator: {
        validate(value: unknown) {
          if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
          const keys = Reflect.ownKeys(value);
          return (
            keys.length <= maxKeys &&
            keys.every(
              (k) =>
                typeof k === 'string' &&
                k.length > 0 &&
                k.length <= 64 &&
                !['__proto__', 'constructor', 'prototype'].includes(k) &&
                typeof (value as Record<string, unknown>)[k] === 'string' &&
                (value as Record<string, string>)[k]!.length <= MAX_RECORD_VALUE_LENGTH,
            )
          );
        },
      },
    });
}

/** `metadata`: at most 50 string values of the caller's own. */
export function IsMetadata(description?: string): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string', maxLength: MAX_RECORD_VALUE_LENGTH },
      maxProperties: MAX_METADATA_KEYS,
      example: { team: 'billing' },
      description: description ?? `Up to ${MAX_METADATA_KEYS} strings of your own (keys 1-64 characters, values at most ${MAX_RECORD_VALUE_LENGTH})`,
    })(target, key);
    IsOmittable()(target, key);
    IsObject()(target, key);
    IsStringRecord(MAX_METADATA_KEYS)(target, key);
  };
}

/**
 * `headers`: extra request headers sent with every delivery, at most 20. Reserved names (framing, routing, client
 * identity, signatures) are refused by the library; the schema lists the lower-case ones in `not` and says the rest.
 */
export function IsDeliveryHeaders(description: string): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'object',
      additionalProperties: { type: 'string', maxLength: MAX_RECORD_VALUE_LENGTH, pattern: HEADER_VALUE },
      maxProperties: MAX_HEADERS,
      not: { anyOf: RESERVED_HEADER_NAMES.map((name) => ({ required: [name] })) },
      example: { authorization: 'Bearer receiver-token' },
      description:
        `${description}. At most ${MAX_HEADERS}; names are HTTP tokens of 1-64 characters, values at most ${MAX_RECORD_VALUE_LENGTH} ` +
        `characters without control characters. Reserved names are refused in any letter case: ${RESERVED_HEADER_NAMES.join(', ')}, ` +
        `and names starting with ${RESERVED_HEADER_PREFIXES.join(', ')}.`,
    })(target, key);
    IsOmittable()(target, key);
    IsObject()(target, key);
    IsStringRecord(MAX_HEADERS)(target, key);
  };
}

/** `secret`: a signing secret of the caller's own, instead of a generated one. */
export function IsSigningSecret(description: string): PropertyDecorator {
  return (target, key) => {
    ApiPropertyOptional({
      type: 'string',
      pattern: SIGNING_SECRET.source,
      minLength: 38,
      maxLength: 94,
      writeOnly: true,
      example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      description: `${description}: \`whsec_\` + canonical (padded) base64 of 24 to 64 random bytes, as Standard Webhooks secrets are. Default: a generated one (32 bytes)`,
    })(target, key);
    IsOmittable()(target, key);
    IsString()(target, key);
    Matches(SIGNING_SECRET, { message: 'secret must be whsec_ followed by the base64 of 24 to 64 random bytes' })(target, key);
  };
}
