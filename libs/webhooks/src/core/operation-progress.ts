/** How far a long operation (re-encryption, recovery) has got: `done` of `total` items. */
export interface WebhookOperationProgress {
  done: number;
  total: number;
}

/** Called as a long operation advances, and once more when it ends (`done === total`). */
export type WebhookProgressListener = (progress: WebhookOperationProgress) => void;
