import type { InjectionToken, Type } from '@nestjs/common';
import type { LookupFunction } from 'node:net';
import type { WebhookDialect } from '../dialects/webhook-dialect.js';
import type { WebhookPayloadSerializer } from '../payloads/webhook-payload-serializer.js';
import type { SecretEncryptionKey } from '../secrets/secret-cipher.js';
import type { CreateWebhookSubscriptionInput, StaticWebhookSubscription } from './subscription-input.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Which application events may become webhooks. The library's own `webhooks.*` events never do. */
export class WebhookEventFilterOptions {
  /** Patterns of events that may be delivered. @default ['**'] */
  include: string[] = ['**'];
  /** Patterns of events that are never delivered, checked after `include`. @default [] */
  exclude: string[] = [];
}

/** Where subscriptions and attempts are kept. */
export class WebhookStorageOptions {
  /**
   * `memory`: in process, lost on restart. `typeorm`: tables in the application's TypeORM `DataSource`
   * (entities in `WEBHOOK_ENTITIES`, migrations in `WEBHOOK_MIGRATIONS`); attempts published inside a
   * transaction of that DataSource are written in that transaction (outbox).
   * @default 'memory'
   */
  type: 'memory' | 'typeorm' = 'memory';
  /** The DataSource's injection token (`getDataSourceToken(name)` of `@nestjs/typeorm`). @default DataSource */
  dataSourceToken?: InjectionToken;
}

/** Which destinations may receive webhooks. */
export class WebhookDestinationOptions {
  /** Allow `http://` destinations. Development only. @default false */
  allowHttp = false;
  /**
   * Private, loopback, link-local, CGNAT, metadata and reserved addresses are refused. `true` allows all of
   * them (never in production); a list of CIDRs (`['127.0.0.1/32']`) allows just those.
   * @default false
   */
  allowPrivateNetworks: boolean | string[] = false;
  /** Ports a destination may use; empty means any port. @default [] */
  allowedPorts: number[] = [];
  /** DNS resolver with the `dns.lookup` signature (called with `all: true`). @default dns.lookup */
  lookup?: LookupFunction;
  /** How long a DNS resolution may take before the name counts as unresolvable. @default 5000 */
  resolveTimeoutMs = 5 * SECOND;
  /** How long a name's resolution is cached by `validateTarget`. @default 60000 */
  resolveCacheTtlMs = MINUTE;
  /** Extra certificate authorities to trust (PEM), for tests and private PKI. @default undefined */
  tls?: { ca?: string | Buffer | Array<string | Buffer> };
}

/** How deliveries are sent. */
export class WebhookDeliveryOptions {
  /**
   * HTTP client: `undici` (undici 7 on the application's thread), `undici-thread` (the same client in a worker
   * thread, so sending uses a second core), `axios` (`@nestjs/axios`) or a `WebhookTransport` class. See
   * docs/benchmarks.md for what each costs. @default 'undici'
   */
  transport: 'undici' | 'undici-thread' | 'axios' | Type<unknown> = 'undici';
  /** Total deadline of one try, from connect to the last byte read. @default 15000 */
  timeoutMs = 15 * SECOND;
  /** Deadline for opening the connection (TCP + TLS). @default 10000 */
  connectTimeoutMs = 10 * SECOND;
  /** Requests in flight at once in this process. @default 64 */
  concurrency = 64;
  /** Requests in flight at once to one endpoint (scheme + host + port). @default 8 */
  perEndpointConcurrency = 8;
  /** Delays before each retry, in milliseconds: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. `[]` disables retries. */
  retrySchedule: number[] = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
  /** Random spread applied to each retry delay (0.2 = ±20 %). @default 0.2 */
  retryJitter = 0.2;
  /** Minimum delay after a timeout or a 429/503 answer. @default 60000 */
  overloadDelayMs = MINUTE;
  /** Largest externalized payload accepted at publish. @default 262144 (256 KiB) */
  maxPayloadBytes = 256 * 1024;
  /** Response bytes read and stored per try; the connection is closed past it. @default 20000 */
  maxStoredResponseBytes = 20_000;
  /** Attempts held in memory waiting for a slot; the rest stay in the store until claimed. @default 10000 */
  maxQueuedAttempts = 10_000;
  /**
   * How long a claim on an attempt (and a worker's hold on an endpoint) lasts unless renewed; renewed every third of
   * it while the worker holds the attempt, also while its request is in flight. A worker that dies loses its
   * claims when they run out: this is how long its attempts wait before another worker sends them. At least 3000.
   * @default 60000
   */
  leaseMs = MINUTE;
  /** How often the store is polled for due attempts (retries, orphans of crashed processes). @default 1000 */
  pollIntervalMs = SECOND;
  /** On shutdown, how long in-flight requests may take to finish. @default 10000 */
  shutdownTimeoutMs = 10 * SECOND;
  /** Whether this process sends deliveries (false for a process that only publishes). @default true */
  worker = true;
}

/** History limits and automatic deactivation. */
export class WebhookLimitOptions {
  /** Attempts kept per subscription; also the all-failed deactivation threshold (as in `nti.webhooks`). @default 50 */
  attemptLimit = 50;
  /** Precondition failures before the subscription is deactivated (as in `nti.webhooks`). @default 50 */
  preconditionFailureLimit = 50;
  /** A subscription whose deliveries all failed for this long is deactivated. `0` disables the rule. @default 5 days */
  disableAfterFailingForMs = 5 * DAY;
}

/** Owner and permission checks. */
export class WebhookAuthorizationOptions {
  /** Permission ids a subscription may name; any other is rejected at creation. @default ['webhooks.view'] */
  permissions: string[] = ['webhooks.view'];
  /** Permission applied when a subscription has an owner but no permission (`nti.webhooks`' documented default). @default 'webhooks.view' */
  defaultPermission: string | null = 'webhooks.view';
  /**
   * The principal acting when an event is published (the request's user), read in the async context of each
   * `emit()` and passed to the authorizer as `actingPrincipal`: plug in the application's request context (a
   * nestjs-cls value, say). `nti.webhooks` required both the acting user and the owner to hold the permission.
   * @default () => null
   */
  actingPrincipal: () => string | null | undefined = () => null;
  /**
   * Without an application authorizer, let every owner receive every event it subscribed to. Off, subscriptions
   * with an owner or a permission receive nothing until the application provides a `WebhookAuthorizer` (the library
   * cannot know who may see what). Turn it on for one-tenant applications and development only.
   * @default false
   */
  trustOwners = false;
}

/** Signing secrets. */
export class WebhookSecretOptions {
  /**
   * Keys that encrypt secrets at rest (AES-256-GCM); the first encrypts, all decrypt. Required by the TypeORM
   * store. Unset: a single key from `WEBHOOKS_SECRET_KEY` (base64 of 32 bytes), if set.
   * @default []
   */
  encryptionKeys: SecretEncryptionKey[] = [];
  /** After `rotateSecret`, how long the old secret keeps signing beside the new one. @default 86400000 (24 h) */
  rotationOverlapMs = DAY;
}

/** Removing an owner's subscriptions when the application says the owner is gone. */
export class WebhookOwnerRemovalOptions {
  /** The event that announces an owner's removal, such as `user.deleted`. @default undefined (off) */
  event?: string;
  /** How to read the owner id from that event's payload. @default payload itself if a string, else `payload.id` */
  ownerId?: (payload: unknown) => string | null | undefined;
  /** Only instances of this class remove subscriptions; other payloads of the event are ignored. @default any */
  payloadType?: Type<unknown>;
  /**
   * Which of the owner's subscriptions go: `all`, wherever they live; `lineage`, the global ones and those of the
   * current scope, the removed principal's scope (`scopes.resolve`) and their ancestors (`nti.webhooks`' default).
   * @default 'all'
   */
  reach: 'all' | 'lineage' = 'all';
  /** With `lineage`: more scopes to search, with their ancestors (`nti.webhooks`' `IWebhookSubscriptionManagers`). */
  scopes?: (payload: unknown) => readonly string[];
}

/** Integration with `@nestjs-cls/transactional`. */
export class WebhookTransactionOptions {
  /**
   * Token of the `TransactionHost` whose active transaction `emit()` joins. `undefined` uses the application's default
   * `TransactionHost` when it registered one (`ClsPluginTransactional`); `false` disables the integration.
   * @default undefined
   */
  transactionHostToken?: InjectionToken | false;
}

/** Where events happen (`nti.webhooks`' sites): see `WebhookScopes`. */
export class WebhookScopeOptions {
  /**
   * The scope an object lives in (a tenant's path such as `/acme/sales`), or `null`. Events about it reach the
   * subscriptions of that scope and its ancestors. Replace `WebhookScopeResolver` for more than a function.
   * @default () => null
   */
  resolve: (payload: unknown) => string | null = () => null;
  /**
   * The current scope, read in the async context of each `emit()`: plug in the application's own tenant context
   * (for example a nestjs-cls value). `WebhookScopes.run(scope, fn)` sets one too and comes first.
   * @default () => null
   */
  current: () => string | null = () => null;
}

/** OpenTelemetry tracing (through `@opentelemetry/api`, when the application installs it and registers an SDK). */
export class WebhookTracingOptions {
  /**
   * Send the W3C trace context of each try (`traceparent`, and `tracestate` when there is one) to the receiver, so
   * its spans join the try's trace. Added after signing (Standard Webhooks signs the id, timestamp and body only)
   * and kept in the recorded request. Off by default: it tells every receiver your trace ids.
   * @default false
   */
  propagate = false;
}

/** Options of `WebhooksModule.forRoot()` / `forRootAsync()`. Every field is optional. */
export interface WebhooksModuleOptions {
  /** Subscriptions declared in code (`nti.webhooks`' `staticSubscription`): in memory, never persisted. @default [] */
  subscriptions?: StaticWebhookSubscription[];
  /**
   * Subscriptions declared in configuration and stored: synced at every start (added ones created, removed ones
   * deactivated with their history kept). See `WebhookDeclaredSubscriptions`. @default []
   */
  declaredSubscriptions?: CreateWebhookSubscriptionInput[];
  /** Extra dialects by name; classes decorated with `@WebhookDialect(name)` are found too. @default {} */
  dialects?: Record<string, WebhookDialect>;
  /** Dialect of subscriptions that name none. @default 'standard' */
  defaultDialect?: string;
  /** Payload classes by name (same as `@WebhookPayload(name)`). @default {} */
  payloadTypes?: Record<string, Type<unknown>>;
  /** Functions that say what is sent for a payload type. @default [] */
  serializers?: WebhookPayloadSerializer[];
  events?: Partial<WebhookEventFilterOptions>;
  storage?: Partial<WebhookStorageOptions>;
  destinations?: Partial<WebhookDestinationOptions>;
  delivery?: Partial<WebhookDeliveryOptions>;
  limits?: Partial<WebhookLimitOptions>;
  authorization?: Partial<WebhookAuthorizationOptions>;
  secrets?: Partial<WebhookSecretOptions>;
  ownerRemoval?: Partial<WebhookOwnerRemovalOptions>;
  transactions?: Partial<WebhookTransactionOptions>;
  scopes?: Partial<WebhookScopeOptions>;
  tracing?: Partial<WebhookTracingOptions>;
}

/** The options after defaults are applied; inject with `@Inject(WEBHOOKS_OPTIONS)`. */
export interface ResolvedWebhooksOptions {
  subscriptions: StaticWebhookSubscription[];
  declaredSubscriptions: CreateWebhookSubscriptionInput[];
  dialects: Record<string, WebhookDialect>;
  defaultDialect: string;
  payloadTypes: Record<string, Type<unknown>>;
  serializers: WebhookPayloadSerializer[];
  events: WebhookEventFilterOptions;
  storage: WebhookStorageOptions;
  destinations: WebhookDestinationOptions;
  delivery: WebhookDeliveryOptions;
  limits: WebhookLimitOptions;
  authorization: WebhookAuthorizationOptions;
  secrets: WebhookSecretOptions;
  ownerRemoval: WebhookOwnerRemovalOptions;
  transactions: WebhookTransactionOptions;
  scopes: WebhookScopeOptions;
  tracing: WebhookTracingOptions;
}
