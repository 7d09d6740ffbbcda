import { WEBHOOKS_VERSION } from '../core/version.js';
import { standardWebhooksSignature } from './standard-webhooks.signature.js';
import type {
  PreparedWebhookRequest,
  WebhookDialect,
  WebhookExternalizeContext,
  WebhookRequestContext,
} from './webhook-dialect.js';

/**
 * The default dialect: `POST` of `{"type", "timestamp", "data"}` as JSON, signed per Standard Webhooks with
 * `webhook-id`, `webhook-timestamp` and `webhook-signature`. Receivers verify it with the `standardwebhooks`
 * or `svix` packages unchanged. Subclass it to change the method, user agent, envelope or headers.
 */
export class StandardWebhookDialect implements WebhookDialect {
  method = 'POST';
  contentType = 'application/json';
  userAgent = `nest-webhooks/${WEBHOOKS_VERSION}`;

  /** The JSON document sent; override to change the envelope. */
  envelope(context: WebhookExternalizeContext): unknown {
    return { type: context.eventName, timestamp: context.occurredAt.toISOString(), data: context.data ?? null };
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
