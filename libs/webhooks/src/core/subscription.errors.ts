/**
 * A subscription field is invalid. `field` names it and `reason` says why; `hint`, when set, tells the developer how
 * to fix it in code (the message carries both; an API answering its own clients may show `reason` alone).
 */
export class InvalidWebhookSubscriptionError extends Error {
  override readonly name = 'InvalidWebhookSubscriptionError';

  constructor(
    readonly field: string,
    readonly reason: string,
    readonly hint?: string,
  ) {
    super(`Invalid webhook subscription field "${field}": ${reason}${hint ? `; ${hint}` : ''}`);
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

/**
 * An outbox write in a transaction that sees the subscriptions as they were before a change this process already
 * applied. On SQLite a transaction that has only read cannot write after another connection committed (SQLite would
 * refuse the write too): retry the transaction.
 */
export class WebhookRegistryConflictError extends Error {
  override readonly name = 'WebhookRegistryConflictError';

  constructor(
    readonly transactionVersion: number,
    readonly registryVersion: number,
  ) {
    super(
      `The transaction sees subscriptions at registry version ${transactionVersion}, older than this process's ${registryVersion} ` +
        '(a change committed after the transaction began reading); retry the transaction',
    );
  }
}

/**
 * A subscription change waited too long for transactions that published webhooks (they hold the registry's version
 * row until they end, PostgreSQL). A transaction that publishes and then changes a subscription always ends this
 * way: it waits for its own lock. Retry the change; change subscriptions before publishing, or outside the transaction.
 */
export class WebhookRegistryLockTimeoutError extends Error {
  override readonly name = 'WebhookRegistryLockTimeoutError';

  constructor(readonly waitedMs: number) {
    super(
      `A subscription change waited ${waitedMs} ms for transactions that published webhooks to commit; a transaction that ` +
        'publishes must not change subscriptions afterwards (change them first, or outside it). Retry the change.',
    );
  }
}
