import type { IncomingMessage, ServerResponse } from 'node:http';
import { StandardWebhookDialect } from 'nest-webhooks';
import type { PreparedWebhookRequest, WebhookRequestContext } from 'nest-webhooks/extensions';
import { ok, type ReceivedRequest, type Responder } from './receiver.js';

/**
 * Shared fixtures of the seed acceptance tests (scenarios 1–22, 69–72: the behaviour of `nti.webhooks`, each scenario a test named after its number).
 *
 * The seed's subscriptions are `for=IContentContainer, when=IObjectCreatedEvent` and its events fire for a
 * `zope.container.folder.Folder`. Here `for_` is a payload class (instances of it and of its subclasses
 * match) and `when` an EventEmitter2 pattern, so the seed's defaults become `ContentContainer` and `*.created`.
 */
export class ContentContainer {}

/** The seed's `Folder`: a content container, so it matches a subscription for `ContentContainer`. */
export class Folder extends ContentContainer {
  constructor(
    readonly id: string,
    readonly title: string,
  ) {
    super();
  }
}

/** Not a content container: never matches a `ContentContainer` subscription. */
export class Memo {
  constructor(readonly text: string) {}
}

/** The seed's default `when`: every created event. */
export const CREATED_EVENTS = ['*.created'];

/** A valid Standard Webhooks secret for static subscriptions (avoids the "no secret" warning). */
export const STATIC_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** A promise the test resolves by hand. */
export interface Gate {
  readonly opened: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** Answers like `ok(status)`, but only once `held` is open: the seed's deferred executor, on the wire. */
export function heldUntil(held: Gate, status = 200): Responder {
  return async (request: ReceivedRequest, res: ServerResponse, req: IncomingMessage) => {
    await held.opened;
    await ok(status)(request, res, req);
  };
}

/** Destroys the connection without answering: a transport failure (seed: the HTTP send raises). */
export const hangUp: Responder = (_request, res) => {
  res.socket?.destroy();
};

/**
 * The standard dialect with a fault switch: when `failing` is set, `prepareRequest` throws before anything is
 * sent (a local processing failure; the seed's equivalent raised while recording the response).
 */
export class SwitchableDialect extends StandardWebhookDialect {
  failing = false;
  readonly error = new TypeError("'utf-8' codec can't decode byte 0xff in position 0: invalid start byte");

  override prepareRequest(context: WebhookRequestContext): PreparedWebhookRequest {
    if (this.failing) throw this.error;
    return super.prepareRequest(context);
  }
}
