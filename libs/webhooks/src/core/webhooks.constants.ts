/** Injection token of the resolved module options (`ResolvedWebhooksOptions`). */
export const WEBHOOKS_OPTIONS = Symbol('WEBHOOKS_OPTIONS');

/** Name of the dialect every module has; it is also the default dialect. */
export const STANDARD_DIALECT = 'standard';

/** Every event the library itself emits starts with this prefix; such events are never delivered. */
export const WEBHOOKS_EVENT_PREFIX = 'webhooks.';

/** Names of the events the library emits on the application's EventEmitter2. */
export const WebhookEvents = {
  /** An attempt resolved as `successful`. Payload: `WebhookAttemptResolvedEvent`. */
  AttemptSucceeded: 'webhooks.attempt.succeeded',
  /** An attempt resolved as `failed` (after its last try). Payload: `WebhookAttemptResolvedEvent`. */
  AttemptFailed: 'webhooks.attempt.failed',
  /** One try of an attempt ended (sent or not), whatever comes next. Payload: `WebhookAttemptTriedEvent`. */
  AttemptTried: 'webhooks.attempt.tried',
  /** A subscription was created. Payload: `WebhookSubscriptionEvent`. */
  SubscriptionCreated: 'webhooks.subscription.created',
  /** A subscription was changed through `update`. Payload: `WebhookSubscriptionEvent`. */
  SubscriptionUpdated: 'webhooks.subscription.updated',
  /** A subscription was deleted. Payload: `WebhookSubscriptionEvent`. */
  SubscriptionDeleted: 'webhooks.subscription.deleted',
  /** A subscription became active. Payload: `WebhookSubscriptionEvent`. */
  SubscriptionActivated: 'webhooks.subscription.activated',
  /** A subscription stopped receiving events. Payload: `WebhookSubscriptionDeactivatedEvent`. */
  SubscriptionDeactivated: 'webhooks.subscription.deactivated',
  /** The precondition-failure counter reached its limit. Payload: `WebhookPreconditionFailureLimitReachedEvent`. */
  PreconditionFailureLimitReached: 'webhooks.subscription.precondition-failure-limit-reached',
  /** Declared subscriptions were synced at start. Payload: `WebhookDeclarationsSyncedEvent`. */
  DeclarationsSynced: 'webhooks.declared.synced',
  /** An owner-removal event could not be acted on (no owner id in it). Payload: `WebhookOwnerRemovalFailedEvent`. */
  OwnerRemovalFailed: 'webhooks.owner-removal.failed',
} as const;

/** Status messages of subscriptions; the automatic ones are the exact texts of `nti.webhooks`. */
export const SubscriptionStatusMessages = {
  Active: 'Active',
  TooManyDeliveryFailures: 'Delivery suspended due to too many delivery failures.',
  TooManyPreconditionFailures: 'Delivery suspended due to too many precondition failures.',
  Deactivated: 'Deactivated',
  EndpointGone: 'Delivery suspended because the endpoint answered 410 Gone.',
  FailingTooLong: 'Delivery suspended because every delivery failed for too long.',
  DeclarationRemoved: 'Deactivated: its declaration was removed from the configuration.',
} as const;

/** Fixed texts of attempts' messages: the first three are `nti.webhooks`' own. */
export const AttemptMessages = {
  DestinationVerificationFailed: 'Verification of the destination URL failed. Please check the domain.',
  RemoteError: 'Contacting the remote server experienced an unexpected error.',
  LocalError: 'Unexpected error handling the response from the server.',
  /** The subscription has no secret that signs now: nothing unsigned is ever sent. */
  NoSigningSecret: 'Not sent: the subscription has no signing secret that can sign now.',
  /** The stored secrets could not be decrypted with the configured `secrets.encryptionKeys`. */
  SigningSecretUnreadable: 'Not sent: the signing secrets of the subscription could not be decrypted with the configured keys.',
  /** A pending attempt of a subscription that was deactivated or deleted. */
  Cancelled: 'Cancelled because the subscription was deactivated or deleted.',
  /** The dialect could not turn the payload into a body. */
  ExternalizationFailed: 'The payload could not be externalized for delivery.',
  /** The body is larger than `delivery.maxPayloadBytes`. */
  PayloadTooLarge: 'The payload is larger than the maximum allowed size.',
} as const;

/** Every fixed text the library writes into subscriptions' and attempts' `status`/`message`, to compare against. */
export const WebhookMessages = {
  subscription: SubscriptionStatusMessages,
  attempt: AttemptMessages,
} as const;
