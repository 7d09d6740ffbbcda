import type { Type } from '@nestjs/common';
import { WebhookDestinationError } from '../destinations/destination.errors.js';
import { eventPatternProblem, MATCH_ALL_EVENTS } from '../core/event-pattern.js';
import { outgoingHeaderProblem } from './outgoing-headers.js';
import { signingSecretProblem } from '../secrets/signing-secret.js';
import { WEBHOOKS_EVENT_PREFIX } from '../core/webhooks.constants.js';
import { InvalidWebhookSubscriptionError } from '../core/subscription.errors.js';
import type { WebhookPayloadTypeRef, WebhookSubscriptionSource } from '../core/webhook-subscription.js';

const MAX_URL_LENGTH = 2048;
const MAX_EVENT_PATTERNS = 100;
const MAX_ID_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 1000;
const MAX_METADATA_KEYS = 50;
const MAX_METADATA_KEY_LENGTH = 64;
const MAX_METADATA_VALUE_LENGTH = 1000;
const MAX_RETRIES = 50;
const MAX_HEADERS = 20;
const MAX_RETRY_DELAY_MS = 30 * 24 * 60 * 60 * 1000;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** What the rules need to know about the module (dialects, permissions, destination policy). */
export interface SubscriptionRuleContext {
  source: WebhookSubscriptionSource;
  hasDialect(name: string): boolean;
  dialectNames(): string[];
  permissions: readonly string[];
  defaultPermission: string | null;
  /** Parses a URL against the destination policy; throws `WebhookDestinationError`. */
  checkUrl(url: string): Promise<void>;
  /** Whether a payload type name is known, and the names of a class. */
  isPayloadType(name: string): boolean;
  payloadTypeNames(type: Function): readonly string[];
}

const fail = (field: string, reason: string, hint?: string): never => {
  throw new InvalidWebhookSubscriptionError(field, reason, hint);
};

export async function checkUrl(value: unknown, context: SubscriptionRuleContext): Promise<string> {
  if (typeof value !== 'string' || value.trim() === '') return fail('url', 'is required and must be a string');
  if (value.length > MAX_URL_LENGTH) return fail('url', `must be at most ${MAX_URL_LENGTH} characters`);
  try {
    await context.checkUrl(value);
  } catch (error) {
    if (error instanceof WebhookDestinationError) return fail('url', `${error.message} (${error.code})`);
    throw error;
  }
  return value;
}

export function checkEvents(value: unknown): string[] {
  if (value === undefined || value === null) return [MATCH_ALL_EVENTS];
  if (!Array.isArray(value)) return fail('events', 'must be an array of event patterns');
  if (value.length === 0) return fail('events', 'must name at least one event pattern (use "**" for all events)');
  if (value.length > MAX_EVENT_PATTERNS) return fail('events', `must have at most ${MAX_EVENT_PATTERNS} patterns`);
  for (const pattern of value) {
    const problem = eventPatternProblem(pattern);
    if (problem) return fail('events', problem);
    if ((pattern as string).startsWith(WEBHOOKS_EVENT_PREFIX)) {
      return fail('events', `"${pattern}": events under "${WEBHOOKS_EVENT_PREFIX}" are the library's own and are never delivered`);
    }
  }
  return [...new Set(value as string[])];
}

/**
 * Stored subscriptions keep a payload type by name, so a class must have a registered name; static ones may
 * hold the class itself.
 */
export function checkPayloadType(value: unknown, context: SubscriptionRuleContext): WebhookPayloadTypeRef | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    if (!context.isPayloadType(value)) {
      return fail('payloadType', `"${value}" is not a registered payload type`, `register it with @WebhookPayload('${value}') or forRoot({ payloadTypes })`);
    }
    return value;
  }
  if (typeof value === 'function') {
    if (context.source === 'static') return value as Type<unknown>;
    const [name] = context.payloadTypeNames(value);
    if (!name) return fail('payloadType', `class ${value.name} has no registered name`, 'decorate it with @WebhookPayload(name)');
    return name;
  }
  return fail('payloadType', 'must be a registered payload type name or a class');
}

/** A per-subscription limit: a whole number from 1 to 10,000, or `null` for the module's. */
export function checkLimit(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10_000) return fail(field, 'must be a whole number from 1 to 10000, or null');
  return value;
}

/** `nti.webhooks`' `PermissivePrincipalId`: text without whitespace (emails and plain names are fine). */
export function checkOwnerId(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return fail('ownerId', 'must be a string');
  if (value.length === 0) return fail('ownerId', 'must not be empty');
  if (value.length > MAX_ID_LENGTH) return fail('ownerId', `must be at most ${MAX_ID_LENGTH} characters`);
  if (/\s/.test(value)) return fail('ownerId', 'Whitespace is not allowed in an ID');
  return value;
}

export function checkPermission(value: unknown, ownerId: string | null, context: SubscriptionRuleContext): string | null {
  if (value === undefined || value === null) return ownerId !== null ? context.defaultPermission : null;
  if (typeof value !== 'string') return fail('permission', 'must be a string');
  if (!context.permissions.includes(value)) {
    return fail('permission', `Undefined permission ID "${value}"; known permissions: ${context.permissions.join(', ') || '(none)'}`);
  }
  return value;
}

export function checkDialect(value: unknown, context: SubscriptionRuleContext): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return fail('dialect', 'must be a string');
  if (!context.hasDialect(value)) return fail('dialect', `unknown dialect "${value}"; registered dialects: ${context.dialectNames().join(', ')}`);
  return value;
}

export function checkDescription(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') return fail('description', 'must be a string');
  if (value.length > MAX_DESCRIPTION_LENGTH) return fail('description', `must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  return value;
}

export function checkMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    return fail('metadata', 'must be an object of string values');
  }
  const keys = Reflect.ownKeys(value);
  if (keys.length > MAX_METADATA_KEYS) return fail('metadata', `must have at most ${MAX_METADATA_KEYS} keys`);
  const result: Record<string, string> = Object.create(null);
  for (const key of keys) {
    if (typeof key !== 'string' || FORBIDDEN_KEYS.has(key)) return fail('metadata', `key ${String(key)} is not allowed`);
    if (key.length === 0 || key.length > MAX_METADATA_KEY_LENGTH) return fail('metadata', `keys must be 1-${MAX_METADATA_KEY_LENGTH} characters`);
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'string') return fail('metadata', `value of "${key}" must be a string`);
    if (item.length > MAX_METADATA_VALUE_LENGTH) return fail('metadata', `value of "${key}" must be at most ${MAX_METADATA_VALUE_LENGTH} characters`);
    result[key] = item;
  }
  return { ...result };
}

export function checkHeaders(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) {
    return fail('headers', 'must be an object of header names to string values');
  }
  const result: Record<string, string> = {};
  const keys = Reflect.ownKeys(value);
  if (keys.length > MAX_HEADERS) return fail('headers', `must have at most ${MAX_HEADERS} headers`);
  for (const key of keys) {
    const item = (value as Record<PropertyKey, unknown>)[key];
    const problem = typeof key === 'string' ? outgoingHeaderProblem(key, item) : 'is not a header name';
    if (problem) return fail('headers', `${String(key)}: ${problem}`);
    result[(key as string).toLowerCase()] = item as string;
  }
  return result;
}

export function checkRetrySchedule(value: unknown): number[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) return fail('retrySchedule', 'must be an array of delays in milliseconds');
  if (value.length > MAX_RETRIES) return fail('retrySchedule', `must have at most ${MAX_RETRIES} delays`);
  for (const delay of value) {
    if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay > MAX_RETRY_DELAY_MS) {
      return fail('retrySchedule', `delays must be integers from 0 to ${MAX_RETRY_DELAY_MS} ms`);
    }
  }
  return [...value];
}

export function checkSecret(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const problem = signingSecretProblem(value);
  return problem ? fail('secret', problem) : (value as string);
}
