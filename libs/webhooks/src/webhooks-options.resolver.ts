import { eventPatternProblem } from './core/event-pattern.js';
import {
  type ResolvedWebhooksOptions,
  WebhookAuthorizationOptions,
  WebhookDeliveryOptions,
  WebhookDestinationOptions,
  WebhookEventFilterOptions,
  WebhookLimitOptions,
  WebhookOwnerRemovalOptions,
  WebhookSecretOptions,
  type WebhooksModuleOptions,
  WebhookStorageOptions,
  WebhookScopeOptions,
  WebhookTracingOptions,
  WebhookTransactionOptions,
} from './core/webhooks.options.js';
import { STANDARD_DIALECT } from './core/webhooks.constants.js';
import { parseCidrList } from './destinations/address-policy.js';

/** The module options are unusable; the message names the option. */
export class WebhooksConfigurationError extends Error {
  override readonly name = 'WebhooksConfigurationError';
}

function merged<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const result = defaults;
  for (const [key, value] of Object.entries(given ?? {})) {
    if (value !== undefined) (result as Record<string, unknown>)[key] = value;
  }
  return result;
}

function requireNumber(path: string, value: unknown, { min = 0, integer = true } = {}): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new WebhooksConfigurationError(`${path} must be ${integer ? 'an integer' : 'a number'} >= ${min}; got ${String(value)}`);
  }
}

function requirePatterns(path: string, patterns: unknown): void {
  if (!Array.isArray(patterns)) throw new WebhooksConfigurationError(`${path} must be an array of event patterns`);
  for (const pattern of patterns) {
    const problem = eventPatternProblem(pattern);
    if (problem) throw new WebhooksConfigurationError(`${path}: ${problem}`);
  }
}

/** Applies defaults and checks every option, so a bad configuration fails at start with a clear message. */
export function resolveWebhooksOptions(options: WebhooksModuleOptions = {}, env = process.env): ResolvedWebhooksOptions {
  const resolved: ResolvedWebhooksOptions = {
    subscriptions: options.subscriptions ?? [],
    declaredSubscriptions: options.declaredSubscriptions ?? [],
    dialects: options.dialects ?? {},
    defaultDialect: options.defaultDialect ?? STANDARD_DIALECT,
    payloadTypes: options.payloadTypes ?? {},
    serializers: options.serializers ?? [],
    events: merged(new WebhookEventFilterOptions(), options.events),
    storage: merged(new WebhookStorageOptions(), options.storage),
    destinations: merged(new WebhookDestinationOptions(), options.destinations),
    delivery: merged(new WebhookDeliveryOptions(), options.delivery),
    limits: merged(new WebhookLimitOptions(), options.limits),
    authorization: merged(new WebhookAuthorizationOptions(), options.authorization),
    secrets: merged(new WebhookSecretOptions(), options.secrets),
    ownerRemoval: merged(new WebhookOwnerRemovalOptions(), options.ownerRemoval),
    transactions: merged(new WebhookTransactionOptions(), options.transactions),
    scopes: merged(new WebhookScopeOptions(), options.scopes),
    tracing: merged(new WebhookTracingOptions(), options.tracing),
  };
  if (!['all', 'lineage'].includes(resolved.ownerRemoval.reach)) {
    throw new WebhooksConfigurationError(`ownerRemoval.reach must be 'all' or 'lineage'; got ${String(resolved.ownerRemoval.reach)}`);
  }
  if (typeof resolved.authorization.actingPrincipal !== 'function') throw new WebhooksConfigurationError('authorization.actingPrincipal must be a function');
  for (const key of ['resolve', 'current'] as const) {
    if (typeof resolved.scopes[key] !== 'function') throw new WebhooksConfigurationError(`scopes.${key} must be a function`);
  }

  if (!Array.isArray(resolved.subscriptions)) throw new WebhooksConfigurationError('subscriptions must be an array');
  if (!Array.isArray(resolved.declaredSubscriptions)) throw new WebhooksConfigurationError('declaredSubscriptions must be an array');
  requirePatterns('events.include', resolved.events.include);
  requirePatterns('events.exclude', resolved.events.exclude);
  if (!['memory', 'typeorm'].includes(resolved.storage.type)) {
    throw new WebhooksConfigurationError(`storage.type must be 'memory' or 'typeorm'; got ${String(resolved.storage.type)}`);
  }

  const { destinations, delivery, limits, authorization, secrets } = resolved;
  if (Array.isArray(destinations.allowPrivateNetworks)) {
    try {
      parseCidrList(destinations.allowPrivateNetworks);
    } catch (error) {
      throw new WebhooksConfigurationError(`destinations.allowPrivateNetworks: ${(error as Error).message}`);
    }
  } else if (typeof destinations.allowPrivateNetworks !== 'boolean') {
    throw new WebhooksConfigurationError('destinations.allowPrivateNetworks must be a boolean or a list of CIDRs');
  }
  for (const port of destinations.allowedPorts) requireNumber('destinations.allowedPorts[]', port, { min: 1 });
  requireNumber('destinations.resolveCacheTtlMs', destinations.resolveCacheTtlMs);
  requireNumber('destinations.resolveTimeoutMs', destinations.resolveTimeoutMs, { min: 1 });

  if (!['undici', 'undici-thread', 'axios'].includes(delivery.transport as string) && typeof delivery.transport !== 'function') {
    throw new WebhooksConfigurationError(`delivery.transport must be 'undici', 'undici-thread', 'axios' or a WebhookTransport class; got ${String(delivery.transport)}`);
  }
  requireNumber('delivery.timeoutMs', delivery.timeoutMs, { min: 1 });
  requireNumber('delivery.connectTimeoutMs', delivery.connectTimeoutMs, { min: 1 });
  requireNumber('delivery.concurrency', delivery.concurrency, { min: 1 });
  requireNumber('delivery.perEndpointConcurrency', delivery.perEndpointConcurrency, { min: 1 });
  if (!Array.isArray(delivery.retrySchedule)) throw new WebhooksConfigurationError('delivery.retrySchedule must be an array of delays in ms');
  delivery.retrySchedule.forEach((d, i) => requireNumber(`delivery.retrySchedule[${i}]`, d));
  requireNumber('delivery.retryJitter', delivery.retryJitter, { integer: false });
  if (delivery.retryJitter >= 1) throw new WebhooksConfigurationError('delivery.retryJitter must be below 1');
  requireNumber('delivery.overloadDelayMs', delivery.overloadDelayMs);
  requireNumber('delivery.maxPayloadBytes', delivery.maxPayloadBytes, { min: 1 });
  requireNumber('delivery.maxStoredResponseBytes', delivery.maxStoredResponseBytes);
  requireNumber('delivery.maxQueuedAttempts', delivery.maxQueuedAttempts, { min: 1 });
  requireNumber('delivery.pollIntervalMs', delivery.pollIntervalMs, { min: 1 });
  requireNumber('delivery.shutdownTimeoutMs', delivery.shutdownTimeoutMs);
  // Leases of attempts held here (waiting or in flight) are renewed every third of the lease, at most once a second.
  requireNumber('delivery.leaseMs', delivery.leaseMs, { min: 3000 });

  requireNumber('limits.attemptLimit', limits.attemptLimit, { min: 1 });
  requireNumber('limits.preconditionFailureLimit', limits.preconditionFailureLimit, { min: 1 });
  requireNumber('limits.disableAfterFailingForMs', limits.disableAfterFailingForMs);

  if (!Array.isArray(authorization.permissions)) throw new WebhooksConfigurationError('authorization.permissions must be an array');
  if (authorization.defaultPermission !== null && !authorization.permissions.includes(authorization.defaultPermission)) {
    throw new WebhooksConfigurationError(
      `authorization.defaultPermission "${authorization.defaultPermission}" is not one of authorization.permissions`,
    );
  }

  if (secrets.encryptionKeys.length === 0 && env.WEBHOOKS_SECRET_KEY) {
    secrets.encryptionKeys = [{ id: 'env', key: env.WEBHOOKS_SECRET_KEY }];
  }
  requireNumber('secrets.rotationOverlapMs', secrets.rotationOverlapMs);
  if (typeof resolved.tracing.propagate !== 'boolean') {
    throw new WebhooksConfigurationError(`tracing.propagate must be a boolean; got ${String(resolved.tracing.propagate)}`);
  }
  return resolved;
}
