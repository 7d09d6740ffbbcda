import { AsyncLocalStorage } from 'node:async_hooks';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { normaliseScope } from '../core/scope-path.js';
import type { EventScopes } from '../core/webhook-shipment.js';

const MAX_REMEMBERED_SCOPES = 10_000;

/**
 * Says which scope (tenant, department: a normalised path such as `/acme/sales`) an object lives in. The default
 * asks `forRoot({ scopes: { resolve } })`; provide your own class for `WebhookScopeResolver` for more.
 */
export abstract class WebhookScopeResolver {
  abstract scopeOf(payload: unknown): string | null;
}

@Injectable()
export class OptionsScopeResolver extends WebhookScopeResolver {
  constructor(@Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions) {
    super();
  }

  scopeOf(payload: unknown): string | null {
    return this.options.scopes.resolve(payload);
  }
}

/**
 * The current scope (`nti.webhooks`' active site) and the scopes of objects. `run(scope, fn)` makes a scope current
 * for `fn` and what it calls, including events it emits; `forRoot({ scopes: { current } })` reads the application's
 * own tenant context when nothing was `run`.
 */
@Injectable()
export class WebhookScopes {
  private readonly logger = new Logger('WebhookScopes');
  /** Scopes as the application gives them, normalised (most applications use a few thousand at most). */
  private readonly normalised = new Map<string, string>();
  /** Created at the first `run`: an application that never calls it pays nothing for async context tracking. */
  private storage: AsyncLocalStorage<string | null> | undefined;

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly resolver: WebhookScopeResolver,
  ) {}

  /** Runs `fn` with `scope` current (`null`: no scope, global only). */
  run<T>(scope: string | null, fn: () => T): T {
    this.storage ??= new AsyncLocalStorage();
    return this.storage.run(scope === null ? null : normaliseScope(scope, 'scope'), fn);
  }

  /** The current scope, or `null`. */
  current(): string | null {
    const set = this.storage?.getStore();
    if (set !== undefined) return set;
    return this.checked(() => this.options.scopes.current(), 'scopes.current');
  }

  /** The scope `payload` lives in, or `null`. */
  of(payload: unknown): string | null {
    if (payload === null || typeof payload !== 'object') return null;
    return this.checked(() => this.resolver.scopeOf(payload), 'WebhookScopeResolver');
  }

  /** Where an event happens: in the caller's async context (call it inside `emit()`), or in `current` when given. */
  ofEvent(payload: unknown, current?: string | null): EventScopes {
    return { current: current === undefined ? this.current() : current === null ? null : normaliseScope(current, 'scope'), payload: this.of(payload) };
  }

  /** A scope from application code: normalised; a throw or an invalid answer is logged and counts as none. */
  private checked(read: () => unknown, source: string): string | null {
    try {
      const scope = read();
      if (scope === null || scope === undefined) return null;
      let normalised = typeof scope === 'string' ? this.normalised.get(scope) : undefined;
      if (normalised === undefined) {
        normalised = normaliseScope(scope, 'scope');
        if (this.normalised.size >= MAX_REMEMBERED_SCOPES) this.normalised.clear();
        this.normalised.set(scope as string, normalised);
      }
      return normalised;
    } catch (error) {
      this.logger.warn(`${source} gave no usable scope: ${(error as Error)?.message ?? String(error)}`);
      return null;
    }
  }
}
