import type { WebhookPayloadTypeRef } from './webhook-subscription.js';

/** What a caller gives to `WebhookSubscriptionManager.create`. Only `url` is required. */
export interface CreateWebhookSubscriptionInput {
  url: string;
  /** @default ['**'] (every event) */
  events?: string[];
  /** @default null (any payload) */
  payloadType?: WebhookPayloadTypeRef | null;
  /** A normalised absolute path (`/acme/sales`), or `null` for a global subscription. @default null */
  scope?: string | null;
  ownerId?: string | null;
  /** Must be one of `authorization.permissions`. @default null, or `authorization.defaultPermission` when `ownerId` is set */
  permission?: string | null;
  /** Must name a registered dialect. @default null (the module's default dialect) */
  dialect?: string | null;
  description?: string | null;
  metadata?: Record<string, string>;
  /** Extra request headers sent with every delivery; see `WebhookSubscription.headers`. @default {} */
  headers?: Record<string, string>;
  /** Delays between tries in milliseconds. @default null (the module's schedule) */
  retrySchedule?: number[] | null;
  /** Attempts kept in its history (1–10,000). @default null (`limits.attemptLimit`) */
  attemptLimit?: number | null;
  /** Precondition failures before deactivation (1–10,000). @default null (`limits.preconditionFailureLimit`) */
  preconditionFailureLimit?: number | null;
  /** A `whsec_` secret to use instead of a generated one (for migrations from another sender). */
  secret?: string;
}

/** Fields that `update` may change. `ownerId` is fixed at creation (`nti.webhooks`: "cannot be changed after creation"). */
export type UpdateWebhookSubscriptionInput = Partial<
  Pick<
    CreateWebhookSubscriptionInput,
    | 'url'
    | 'events'
    | 'payloadType'
    | 'permission'
    | 'dialect'
    | 'description'
    | 'metadata'
    | 'headers'
    | 'retrySchedule'
    | 'attemptLimit'
    | 'preconditionFailureLimit'
  >
>;

/** A subscription declared in code with `WebhooksModule.forRoot({ subscriptions })` (`nti.webhooks`' `staticSubscription`). */
export interface StaticWebhookSubscription extends CreateWebhookSubscriptionInput {
  /** @default 'Subscription', then 'Subscription-2', 'Subscription-3', … (`nti.webhooks`' naming) */
  id?: string;
}
