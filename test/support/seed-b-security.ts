import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { type INestApplication, Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { WebhookAuthorization, type WebhookAuthorizationRequest, WebhookAuthorizer, WebhookDeliveryManager } from 'nest-webhooks';

/** The seed's unauthenticated principal (zope's "anybody"); only used when a fallback is switched on. */
export const ANONYMOUS = 'zope.anybody';

type Setting = 'allow' | 'deny';

/** Content the seed fires events about; it may carry local grants (seed: a grant on the object's own map). */
export interface SecuredContent {
  readonly localGrants?: Readonly<Record<string, readonly string[]>>;
}

/** Seed `IContentContainer` (a Folder): the payload type of the security scenarios. */
export class Folder implements SecuredContent {
  constructor(
    readonly name: string,
    readonly localGrants: Readonly<Record<string, readonly string[]>> = {},
  ) {}
}

/** The application's request context: who is acting (a nestjs-cls or AsyncLocalStorage value in a real app). */
export const interaction = new AsyncLocalStorage<string>();

/**
 * A test authorizer that models the seed's zope security for owner/permission checks (§7.1), the way an
 * application would implement `WebhookAuthorizer`:
 *
 * - a principal registry (the authentication utility): an owner that is not in it cannot be resolved;
 * - registered permission ids: an unknown one cannot be resolved;
 * - grants and denials per principal, and for the anonymous role (which every principal has); a principal's own
 *   setting wins over the role's, and local grants on the event's object add to them;
 * - the acting user (the seed's interaction), which the library reads from the application's request context
 *   (`authorization.actingPrincipal`) and passes in; the owner AND the acting user must both hold the permission;
 * - an explicit, opt-in anonymous fallback (`fallbackToAnonymous`): the library itself has none.
 *
 * Unresolvable owner or permission → `PreconditionFailed` (counted by the library); otherwise Allowed/Denied.
 */
@Injectable()
export class SeedAuthorizer extends WebhookAuthorizer {
  readonly principals = new Set<string>();
  readonly permissions = new Set<string>(['webhooks.view']);
  private readonly principalSettings = new Map<string, Map<string, Setting>>();
  private readonly anonymousRole = new Map<string, Setting>();
  /** Seed `fallback_to_unauthenticated_principal`, made an explicit choice of the application. */
  fallbackToAnonymous = false;
  /** Every request the library made, to show what it passes in. */
  readonly requests: WebhookAuthorizationRequest[] = [];

  definePrincipal(id: string): this {
    this.principals.add(id);
    return this;
  }

  /** Seed: wiping the principal registry (the authentication utility forgets everyone). */
  wipePrincipals(): void {
    this.principals.clear();
  }

  grant(principal: string, permission: string): this {
    this.settingsOf(principal).set(permission, 'allow');
    return this;
  }

  deny(principal: string, permission: string): this {
    this.settingsOf(principal).set(permission, 'deny');
    return this;
  }

  grantToAnonymousRole(permission: string): this {
    this.anonymousRole.set(permission, 'allow');
    return this;
  }

  denyToAnonymousRole(permission: string): this {
    this.anonymousRole.set(permission, 'deny');
    return this;
  }

  /** Runs `work` inside an interaction of `principal` (the acting user); async work started inside keeps it. */
  actAs<T>(principal: string, work: () => T): T {
    return interaction.run(principal, work);
  }

  authorize(request: WebhookAuthorizationRequest): WebhookAuthorization {
    this.requests.push(request);
    const { ownerId, permission, payload } = request;
    if (permission === null || !this.permissions.has(permission)) return WebhookAuthorization.PreconditionFailed;
    let owner: string | null = ownerId !== null && this.principals.has(ownerId) ? ownerId : null;
    if (owner === null && this.fallbackToAnonymous) owner = ANONYMOUS;
    if (owner === null) return WebhookAuthorization.PreconditionFailed;
    const participants = [owner];
    // The library passes the acting user it read from the application's request context.
    if (request.actingPrincipal !== null) participants.push(request.actingPrincipal);
    return participants.every((principal) => this.holds(principal, permission, payload))
      ? WebhookAuthorization.Allowed
      : WebhookAuthorization.Denied;
  }

  private holds(principal: string, permission: string, object: unknown): boolean {
    const own = this.principalSettings.get(principal)?.get(permission);
    if (own !== undefined) return own === 'allow';
    const local = (object as SecuredContent | null)?.localGrants?.[principal];
    if (local?.includes(permission)) return true;
    return this.anonymousRole.get(permission) === 'allow';
  }

  private settingsOf(principal: string): Map<string, Setting> {
    let settings = this.principalSettings.get(principal);
    if (!settings) this.principalSettings.set(principal, (settings = new Map()));
    return settings;
  }
}

/** A fresh Standard Webhooks secret for static subscriptions (so the library does not warn about a missing one). */
export function seedSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * Seed `deliver_some`: `n` separate events, one after the other, each waited for (each its own unit of work).
 * `make(i)` builds the i-th payload.
 */
export async function deliverSome(app: INestApplication, n: number, eventName: string, make: (i: number) => unknown): Promise<void> {
  const emitter = app.get(EventEmitter2);
  const delivery = app.get(WebhookDeliveryManager);
  for (let i = 0; i < n; i++) {
    emitter.emit(eventName, make(i));
    await delivery.waitForPendingDeliveries();
  }
}
