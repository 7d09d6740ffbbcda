import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

type Answer = string[] | (() => string[]) | Error;

/**
 * A DNS resolver for tests (DNS is a true boundary; this machine has no public DNS). Names map to fixed
 * answers, to a function (for rebinding: a different answer each call), or to an error.
 */
export class FakeResolver {
  readonly calls: string[] = [];
  private readonly answers = new Map<string, Answer>();

  set(name: string, answer: Answer): this {
    this.answers.set(name.toLowerCase(), answer);
    return this;
  }

  readonly lookup: LookupFunction = (hostname, options, callback) => {
    this.calls.push(hostname);
    const answer = this.answers.get(hostname.toLowerCase());
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
    const cb = callback as (err: NodeJS.ErrnoException | null, address?: string | LookupAddress[], family?: number) => void;
    setImmediate(() => {
      if (answer === undefined || answer instanceof Error) {
        const error: NodeJS.ErrnoException = answer instanceof Error ? answer : new Error(`getaddrinfo ENOTFOUND ${hostname}`);
        error.code ??= 'ENOTFOUND';
        cb(error);
        return;
      }
      const addresses = (typeof answer === 'function' ? answer() : answer).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
      if (all) cb(null, addresses);
      else cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
