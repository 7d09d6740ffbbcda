/**
 * Why a destination is refused:
 * - `invalid-url`: not a parseable absolute URL;
 * - `insecure-scheme`: `http:` while `destinations.allowHttp` is off;
 * - `unsupported-scheme`: neither `https:` nor `http:`;
 * - `blocked-port`: a port outside `destinations.allowedPorts`;
 * - `blocked-address`: the host is, or resolves to, a private/loopback/link-local/metadata/reserved address;
 * - `unresolvable`: the name does not resolve (often temporary, so deliveries retry it).
 */
export type DestinationErrorCode =
  | 'invalid-url'
  | 'insecure-scheme'
  | 'unsupported-scheme'
  | 'blocked-port'
  | 'blocked-address'
  | 'unresolvable';

/** A destination refused by policy or that cannot be reached by name. `code` says why. */
export class WebhookDestinationError extends Error {
  override readonly name = 'WebhookDestinationError';

  constructor(
    readonly code: DestinationErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Refusals that no retry can change (everything but a failed resolution). */
  get permanent(): boolean {
    return this.code !== 'unresolvable';
  }
}
