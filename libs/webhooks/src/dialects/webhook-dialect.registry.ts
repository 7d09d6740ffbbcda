import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { STANDARD_DIALECT, WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { StandardWebhookDialect } from './standard.dialect.js';
import type { WebhookDialect } from './webhook-dialect.js';
import { WEBHOOK_DIALECT_METADATA } from './webhook-dialect.decorator.js';

/** A subscription or a lookup named a dialect that is not registered. */
export class UnknownWebhookDialectError extends Error {
  override readonly name = 'UnknownWebhookDialectError';

  constructor(
    readonly dialect: string,
    known: readonly string[],
  ) {
    super(`Unknown webhook dialect "${dialect}"; registered dialects: ${known.join(', ')}`);
  }
}

function isDialect(value: unknown): value is WebhookDialect {
  const candidate = value as Partial<WebhookDialect> | null;
  return typeof candidate?.externalize === 'function' && typeof candidate.prepareRequest === 'function';
}

/**
 * Named dialects (`nti.webhooks`: named `IWebhookDialect` utilities). `standard` is always there; more come from
 * `forRoot({ dialects })`, from providers decorated with `@WebhookDialectProvider(name)` and from `register`.
 */
@Injectable()
export class WebhookDialectRegistry implements OnModuleInit {
  private readonly logger = new Logger('WebhookDialectRegistry');
  private readonly dialects = new Map<string, WebhookDialect>();
  private discovered = false;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {
    this.register(STANDARD_DIALECT, new StandardWebhookDialect());
    for (const [name, dialect] of Object.entries(options.dialects)) this.register(name, dialect);
  }

  /** Adds a dialect. Two dialects with the same name conflict (as in `nti.webhooks`), so a duplicate name throws. */
  register(name: string, dialect: WebhookDialect): void {
    if (typeof name !== 'string' || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name)) {
      throw new Error(`Webhook dialect name ${JSON.stringify(name)} must be 1-64 of [A-Za-z0-9_.:-]`);
    }
    if (!isDialect(dialect)) throw new Error(`Webhook dialect "${name}" must have externalize() and prepareRequest() methods`);
    const existing = this.dialects.get(name);
    if (existing && existing !== dialect) throw new Error(`A webhook dialect named "${name}" is already registered`);
    this.dialects.set(name, dialect);
  }

  /** The dialect registered under `name`; `null`/`undefined` means the default dialect. */
  get(name?: string | null): WebhookDialect {
    this.discover();
    const key = name ?? this.options.defaultDialect;
    const dialect = this.dialects.get(key);
    if (!dialect) throw new UnknownWebhookDialectError(key, this.names());
    return dialect;
  }

  has(name: string): boolean {
    this.discover();
    return this.dialects.has(name);
  }

  names(): string[] {
    this.discover();
    return [...this.dialects.keys()];
  }

  onModuleInit(): void {
    this.discover();
  }

  /**
   * Registers providers marked with `@WebhookDialectProvider`; runs once, after every provider exists (at module
   * init, or at the first use before it).
   */
  discover(): void {
    if (this.discovered) return;
    this.discovered = true;
    for (const wrapper of this.discovery.getProviders()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype || typeof metatype !== 'function') continue;
      const name = this.reflector.get<string | undefined>(WEBHOOK_DIALECT_METADATA, metatype);
      if (name === undefined) continue;
      this.register(name, instance as WebhookDialect);
      this.logger.debug(`Registered dialect "${name}" from ${metatype.name}`);
    }
    if (!this.dialects.has(this.options.defaultDialect)) {
      throw new UnknownWebhookDialectError(this.options.defaultDialect, [...this.dialects.keys()]);
    }
  }
}
