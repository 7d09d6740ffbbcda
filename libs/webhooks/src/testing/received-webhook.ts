/** One request a `WebhookTestReceiver` received, as it saw it. */
export interface ReceivedWebhook {
  /** The `webhook-id` header (`null` when absent). */
  readonly id: string | null;
  /** The event: the `type` of a Standard Webhooks body (`null` when the body has none). */
  readonly type: string | null;
  /** The `data` of a Standard Webhooks body, parsed (`undefined` when the body has none). */
  readonly data: unknown;
  /** The whole body, parsed as JSON (`undefined` when it is not JSON). */
  readonly json: unknown;
  /** The body as received. */
  readonly body: string;
  /** The `webhook-timestamp` header as a date (`null` when absent or not a number). */
  readonly timestamp: Date | null;
  readonly method: string;
  /** The path and query of the request, such as `/hooks?tenant=acme`. */
  readonly path: string;
  /**
   * The request headers, names in lower case (repeated ones joined with `, `, but repeated `webhook-signature` headers
   * with a space, as one list of signatures).
   */
  readonly headers: Readonly<Record<string, string>>;
  /** Whether the signature matched one of the receiver's secrets, within the timestamp tolerance. */
  readonly verified: boolean;
  /** Why it did not verify (`null` when it did). */
  readonly verificationError: string | null;
  /** The status the receiver answered with (500 when the responder threw or its answer could not be sent). */
  readonly status: number;
  /** What went wrong answering: the responder threw, or its status or headers could not be sent (`null`: nothing). */
  readonly responderError: string | null;
  /** When it arrived, in real time. */
  readonly receivedAt: Date;
}

/** The parts of a body: the whole JSON, and the Standard Webhooks envelope's `type` and `data` when present. */
export function parseBody(body: string): { json: unknown; type: string | null; data: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { json: undefined, type: null, data: undefined };
  }
  const envelope = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : {};
  return { json, type: typeof envelope.type === 'string' ? envelope.type : null, data: envelope.data };
}
