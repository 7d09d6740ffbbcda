import { Inject, Injectable } from '@nestjs/common';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { WebhookClock } from '../core/clock.js';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { AddressPolicy, parseIpLiteral } from './address-policy.js';
import { WebhookDestinationError } from './destination.errors.js';

/** A destination URL split into what the policy and the transports need. */
export interface WebhookTarget {
  url: URL;
  /** Host without brackets or trailing dot, lower-cased. */
  hostname: string;
  port: number;
  /** True when the host is an IP address rather than a name. */
  isIpLiteral: boolean;
}

/** A target whose addresses were all checked against the policy. */
export interface ValidatedWebhookTarget extends WebhookTarget {
  addresses: LookupAddress[];
}

interface CacheEntry {
  expiresAt: number;
  addresses: LookupAddress[];
}

const MAX_CACHE_ENTRIES = 10_000;

/**
 * Decides whether a URL may receive webhooks (`nti.webhooks`' `IWebhookDestinationValidator`): scheme policy, URL parsing
 * with ports and credentials handled properly (`nti.webhooks` resolved `host:port` and so rejected every URL with a
 * port), the address policy, and resolution through an injectable resolver with a TTL cache.
 *
 * It runs at subscription creation and update (early, clear errors) and on every try through `lookup` and
 * `checkTarget`, which the transports call when they open a connection, so the address checked is the one
 * connected to (pinned).
 */
@Injectable()
export class WebhookDestinationValidator {
  private readonly policy: AddressPolicy;
  private readonly resolver: LookupFunction;
  private readonly cache = new Map<string, CacheEntry>();
  /** Parsed targets by URL: parsing is pure, and every try of every attempt needs it. */
  private readonly targets = new Map<string, WebhookTarget>();

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly clock: WebhookClock,
  ) {
    this.policy = new AddressPolicy(options.destinations.allowPrivateNetworks);
    this.resolver = options.destinations.lookup ?? (dnsLookup as unknown as LookupFunction);
  }

  /** Parses a URL and applies the scheme and port rules. Throws `WebhookDestinationError`. Cached per URL. */
  parseTarget(raw: string): WebhookTarget {
    const cached = this.targets.get(raw);
    if (cached) return cached;
    const target = Object.freeze(this.parse(raw));
    if (this.targets.size >= MAX_CACHE_ENTRIES) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(raw, target);
    return target;
  }

  private parse(raw: string): WebhookTarget {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new WebhookDestinationError('invalid-url', 'is not a valid absolute URL');
    }
    if (url.protocol === 'http:') {
      if (!this.options.destinations.allowHttp) {
        throw new WebhookDestinationError('insecure-scheme', 'Refusing to deliver to insecure destination: only https:// URLs are allowed');
      }
    } else if (url.protocol !== 'https:') {
      throw new WebhookDestinationError('unsupported-scheme', `the scheme ${url.protocol} is not supported; use https://`);
    }
    if (!url.hostname) throw new WebhookDestinationError('invalid-url', 'has no host');
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    const { allowedPorts } = this.options.destinations;
    if (allowedPorts.length > 0 && !allowedPorts.includes(port)) {
      throw new WebhookDestinationError('blocked-port', `port ${port} is not allowed; allowed ports: ${allowedPorts.join(', ')}`);
    }
    let hostname = url.hostname.toLowerCase();
    if (hostname.startsWith('[') && hostname.endsWith(']')) hostname = hostname.slice(1, -1);
    if (hostname.endsWith('.')) hostname = hostname.slice(0, -1);
    return { url, hostname, port, isIpLiteral: parseIpLiteral(hostname) !== null };
  }

  /**
   * The full check: parse, apply the scheme/port rules, resolve the host (cached) and check every address.
   * Throws `WebhookDestinationError`; the code says why.
   */
  async validateTarget(raw: string): Promise<ValidatedWebhookTarget> {
    const target = this.parseTarget(raw);
    if (target.isIpLiteral) {
      this.checkAddress(target.hostname, target.hostname);
      const family = target.hostname.includes(':') ? 6 : 4;
      return { ...target, addresses: [{ address: target.hostname, family }] };
    }
    const addresses = await this.resolveCached(target.hostname);
    for (const { address } of addresses) this.checkAddress(address, target.hostname);
    return { ...target, addresses };
  }

  /**
   * The check run when a subscription is created or its URL changed: everything `validateTarget` does, except
   * that a name that does not resolve now is accepted (DNS may be down; every try checks again).
   */
  async validateSubscriptionUrl(raw: string): Promise<void> {
    try {
      await this.validateTarget(raw);
    } catch (error) {
      if (error instanceof WebhookDestinationError && error.code === 'unresolvable') return;
      throw error;
    }
  }

  /**
   * A `dns.lookup`-compatible function for transports: resolves without the cache, refuses the connection if
   * any address is blocked, and hands back only checked addresses, so the socket connects to a vetted IP.
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const family = typeof options === 'number' ? options : opts.family;
    this.resolve(hostname).then(
      (all) => {
        try {
          for (const { address } of all) this.checkAddress(address, hostname);
        } catch (error) {
          (callback as (err: Error) => void)(error as Error);
          return;
        }
        const addresses = family === 4 || family === 6 ? all.filter((a) => a.family === family) : all;
        if (addresses.length === 0) {
          (callback as (err: Error) => void)(new WebhookDestinationError('unresolvable', `${hostname} has no address of family ${String(family)}`));
        } else if (opts.all) {
          (callback as (err: null, addresses: LookupAddress[]) => void)(null, addresses);
        } else {
          (callback as (err: null, address: string, family: number) => void)(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (error: Error) => (callback as (err: Error) => void)(error),
    );
  };

  /** Throws when an address may not be connected to. `host` is only used in the message. */
  checkAddress(address: string, host: string): void {
    const verdict = this.policy.check(address);
    if (!verdict.allowed) {
      const error = new WebhookDestinationError('blocked-address', `${host} is not a publicly routable destination`);
      Object.defineProperty(error, 'range', { value: verdict.range, enumerable: false });
      throw error;
    }
  }

  private async resolveCached(hostname: string): Promise<LookupAddress[]> {
    const now = this.clock.now().getTime();
    const cached = this.cache.get(hostname);
    if (cached && cached.expiresAt > now) return cached.addresses;
    const addresses = await this.resolve(hostname);
    const ttl = this.options.destinations.resolveCacheTtlMs;
    if (ttl > 0) {
      if (this.cache.size >= MAX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(hostname, { expiresAt: now + ttl, addresses });
    }
    return addresses;
  }

  /** Resolves through the configured resolver, bounded by `destinations.resolveTimeoutMs`. */
  private resolve(hostname: string): Promise<LookupAddress[]> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => done(Object.assign(new Error('resolution timed out'), { code: 'ETIMEOUT' })), this.options.destinations.resolveTimeoutMs);
      timer.unref();
      const done = (error: NodeJS.ErrnoException | null, addresses?: LookupAddress[] | string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error || !addresses || addresses.length === 0) {
          reject(new WebhookDestinationError('unresolvable', `${hostname} could not be resolved${error?.code ? ` (${error.code})` : ''}`));
        } else if (typeof addresses === 'string') {
          resolve([{ address: addresses, family: addresses.includes(':') ? 6 : 4 }]);
        } else resolve(addresses);
      };
      try {
        (this.resolver as (h: string, o: object, cb: typeof done) => void)(hostname, { all: true, verbatim: true }, done);
      } catch (error) {
        done(error as NodeJS.ErrnoException);
      }
    });
  }
}
