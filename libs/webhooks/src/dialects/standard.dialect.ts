import { WEBHOOKS_VERSION } from '../core/version.js';
import { standardWebhooksSignature } from './standard-webhooks.signature.js';
import type {
  PreparedWebhookRequest,
  WebhookDialect,
  WebhookExternalizeContext,
  WebhookRequestContext,
} from './webhook-dialect.js';

/** How the standard dialect writes the `Date`s inside an event's data. */
export type WebhookTimestampFormat = 'iso-milliseconds' | 'iso-seconds' | 'unix-seconds';

/** Options of a `StandardWebhookDialect` instance; each is also a field to change on a live instance. */
export interface StandardWebhookDialectOptions {
  method?: string;
  userAgent?: string;
  timestamps?: WebhookTimestampFormat;
}

/** `value` with every `Date` inside plain objects and arrays written as `format` says. */
function renderDates(value: unknown, format: WebhookTimestampFormat): unknown {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return null;
    if (format === 'unix-seconds') return value.getTime() / 1000;
    return format === 'iso-seconds' ? value.toISOString().replace(/\.\d{3}Z$/, 'Z') : value.toISOString();
  }
  if (Array.isArray(value)) return value.map((item) => renderDates(item, format));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDates(item, format)]));
  }
  return value;
}

/**
 * The default dialect: `POST` of `{"type", "timestamp", "data"}` as JSON, signed per Standard Webhooks with
 * `webhook-id`, `webhook-timestamp` and `webhook-signature`. Receivers verify it with the `standardwebhooks`
 * or `svix` packages unchanged. Subclass it to change the method, user agent, envelope or headers.
 */
export class StandardWebhookDialect implements WebhookDialect {
  method = 'POST';
  contentType = 'application/json';
  userAgent = `nest-webhooks/${WEBHOOKS_VERSION}`;
  /**
   * How `Date`s inside the data are written: `iso-milliseconds` (JSON's own form, `1973-11-29T21:33:09.000Z`),
   * `iso-seconds` (`1973-11-29T21:33:09Z`, `nti.webhooks`' `webhook-delivery` policy) or `unix-seconds`
   * (`123456789`, its policy-less default). Only plain objects and arrays are walked; the envelope's own `timestamp`
   * stays ISO, as Standard Webhooks has it.
   * @default 'iso-milliseconds'
   */
  timestamps: WebhookTimestampFormat = 'iso-milliseconds';

  constructor(options: StandardWebhookDialectOptions = {}) {
    if (options.method !== undefined) this.method = options.method;
    if (options.userAgent !== undefined) this.userAgent = options.userAgent;
    if (options.timestamps !== undefined) this.timestamps = options.timestamps;
  }

  /** The JSON document sent; override to change the envelope. */
  envelope(context: WebhookExternalizeContext): unknown {
    const data = context.data ?? null;
    return { type: context.eventName, timestamp: context.occurredAt.toISOString(), data: this.timestamps === 'iso-milliseconds' ? data : renderDates(data, this.timestamps) };
  }

  externalize(context: WebhookExternalizeContext): string {
    const body = JSON.stringify(this.envelope(context));
    if (body === undefined) throw new TypeError(`The payload of ${context.eventName} cannot be represented as JSON`);
    return body;
  }

  /** The headers of one try; override to add some (the result is checked against the header deny list). */
  headers(context: WebhookRequestContext): Record<string, string> {
    const headers: Record<string, string> = {
      ...context.headers,
      'content-type': this.contentType,
      'user-agent': this.userAgent,
      'webhook-id': context.webhookId,
      'webhook-timestamp': String(Math.floor(context.timestamp.getTime() / 1000)),
    };
    if (context.secrets.length > 0) {
      headers['webhook-signature'] = standardWebhooksSignature(context.webhookId, context.timestamp, context.body, context.secrets);
    }
    return headers;
  }

  prepareRequest(context: WebhookRequestContext): PreparedWebhookRequest {
    return { method: this.method, url: context.subscription.url, headers: this.headers(context), body: context.body };
  }
}
