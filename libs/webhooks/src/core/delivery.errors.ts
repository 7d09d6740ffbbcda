/** `waitForPendingDeliveries` ran out of time. */
export class WebhookDeliveryTimeoutError extends Error {
  override readonly name = 'WebhookDeliveryTimeoutError';
}

/** No attempt has this id. */
export class WebhookAttemptNotFoundError extends Error {
  override readonly name = 'WebhookAttemptNotFoundError';

  constructor(readonly attemptId: string) {
    super(`Webhook attempt "${attemptId}" does not exist`);
  }
}

/** An externalized payload over `delivery.maxPayloadBytes`. */
export class PayloadTooLargeError extends Error {
  override readonly name = 'PayloadTooLargeError';

  constructor(
    readonly eventName: string,
    readonly size: number,
    readonly limit: number,
  ) {
    super(`The payload of ${eventName} is ${size} bytes, over the ${limit}-byte limit (delivery.maxPayloadBytes)`);
  }
}
