/** A subscription field is invalid. `field` names it; the message says why. */
export class InvalidWebhookSubscriptionError extends Error {
  override readonly name = 'InvalidWebhookSubscriptionError';

  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`Invalid webhook subscription field "${field}": ${reason}`);
  }
}

/** No subscription has this id (or it is not visible to the caller). */
export class WebhookSubscriptionNotFoundError extends Error {
  override readonly name = 'WebhookSubscriptionNotFoundError';

  constructor(readonly subscriptionId: string) {
    super(`Webhook subscription "${subscriptionId}" does not exist`);
  }
}

/** The operation is not allowed on this kind of subscription (for example changing a static one's URL). */
export class WebhookSubscriptionOperationError extends Error {
  override readonly name = 'WebhookSubscriptionOperationError';
}
