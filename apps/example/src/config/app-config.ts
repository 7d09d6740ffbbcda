import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import ms from 'ms';

/**
 * What a process does: `all` serves the API and delivers; `api` serves the API and only publishes (workers send);
 * `worker` delivers and serves no HTTP at all.
 */
export type AppRole = 'all' | 'api' | 'worker';

/** Delivery settings an operator may set from the environment; unset ones keep the library's defaults. */
export interface DeliverySettings {
  retrySchedule?: number[];
  leaseMs?: number;
  pollIntervalMs?: number;
}

/** The example application's configuration, read from the environment (docs/example-app.md lists the variables). */
export interface AppConfig {
  role: AppRole;
  port: number;
  /** A worker's port for `/health` and `/metrics` only (`WEBHOOKS_WORKER_PORT`); `null`: a worker serves no HTTP. */
  workerPort: number | null;
  database: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string };
  redisUrl: string | null;
  /** Owner id by API key; `null` means "generate a development key". */
  apiKeys: Map<string, string> | null;
  /** The tenant scope of each owner (`/acme/sales`): their orders live there, their subscriptions too. */
  ownerScopes: Map<string, string>;
  allowHttp: boolean;
  allowPrivateNetworks: boolean | string[];
  tlsCa: string | null;
  secretKey: string | null;
  /** Earlier values of WEBHOOKS_SECRET_KEY, still able to decrypt while secrets are re-encrypted. */
  previousSecretKeys: string[];
  delivery: DeliverySettings;
  /** The bearer token `GET /metrics` requires; `null` leaves it open (development, or a network only Prometheus reaches). */
  metricsToken: string | null;
  /** `GET /health` reports down when a due delivery has waited longer than this for a worker. */
  healthMaxOutboxLagMs: number;
}

/** A configuration value is wrong; the message is one line naming the variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const CIDR = /^[0-9a-fA-F:.]+(\/\d{1,3})?$/;

function parseBoolean(name: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${name} must be "true" or "false", got "${value}"`);
}

function parsePort(value: string | undefined, name = 'PORT'): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`${name} must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

function parseDatabase(value: string | undefined): AppConfig['database'] {
  const url = value === undefined || value === '' ? 'sqlite:./data/webhooks.sqlite' : value;
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length);
    if (path === '' || path === ':memory:') throw new ConfigError(`DATABASE_URL must name a SQLite file, as in sqlite:./data/webhooks.sqlite (got "${url}")`);
    return { type: 'sqlite', path: isAbsolute(path) ? path : resolve(path) };
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    try {
      new URL(url);
    } catch {
      throw new ConfigError(`DATABASE_URL is not a valid postgres:// URL`);
    }
    return { type: 'postgres', url };
  }
  throw new ConfigError(`DATABASE_URL must start with sqlite: or postgres:// (got "${url.replace(/\/\/[^@]*@/, '//***@')}")`);
}

function parseApiKeys(value: string | undefined): Map<string, string> | null {
  if (value === undefined || value.trim() === '') return null;
  const keys = new Map<string, string>();
  for (const entry of value.split(',')) {
    const separator = entry.indexOf(':');
    const owner = entry.slice(0, separator).trim();
    const key = entry.slice(separator + 1).trim();
    if (separator <= 0 || !owner || !key) throw new ConfigError('WEBHOOKS_API_KEYS must be a comma-separated list of owner:key pairs');
    if (/\s/.test(owner)) throw new ConfigError(`WEBHOOKS_API_KEYS: owner "${owner}" contains whitespace`);
    if (key.length < 16) throw new ConfigError(`WEBHOOKS_API_KEYS: the key of owner "${owner}" must be at least 16 characters`);
    if (keys.has(key)) throw new ConfigError(`WEBHOOKS_API_KEYS: a key is listed twice`);
    keys.set(key, owner);
  }
  return keys;
}

function parsePrivateNetworks(value: string | undefined): boolean | string[] {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const cidr of list) if (!CIDR.test(cidr)) throw new ConfigError(`WEBHOOKS_ALLOW_PRIVATE_NETWORKS: "${cidr}" is not an IP address or CIDR`);
  return list;
}

function parseCaFile(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!existsSync(value)) throw new ConfigError(`WEBHOOKS_TLS_CA_FILE: file "${value}" does not exist`);
  const pem = readFileSync(value, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`WEBHOOKS_TLS_CA_FILE: "${value}" holds no PEM certificate`);
  return pem;
}

function parseSecretKey(value: string | undefined, name = 'WEBHOOKS_SECRET_KEY'): string | null {
  if (value === undefined || value === '') return null;
  if (Buffer.from(value, 'base64').length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    throw new ConfigError(`${name} must be the base64 of 32 bytes (openssl rand -base64 32)`);
  }
  return value;
}

function parseRole(value: string | undefined): AppRole {
  if (value === undefined || value === '') return 'all';
  if (value === 'all' || value === 'api' || value === 'worker') return value;
  throw new ConfigError(`WEBHOOKS_ROLE must be "all", "api" or "worker", got "${value}"`);
}

/** A duration: milliseconds, or a number with a unit (`500ms`, `5s`, `30m`, `2h`, `1d`). */
function parseDuration(name: string, value: string, { min = 0, max = 30 * 24 * 3600 * 1000 } = {}): number {
  const parsed = /^\d+$/.test(value) ? Number(value) : ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(`${name}: "${value}" is not a duration from ${ms(min)} to ${ms(max)} (such as 500ms, 5s, 30m, 2h)`);
  }
  return parsed;
}

/** `5s,5m,30m,2h`: the delays before each retry; `none`: no retries. */
function parseRetrySchedule(value: string | undefined): number[] | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.trim() === 'none') return [];
  const delays = value.split(',').map((d) => parseDuration('WEBHOOKS_RETRY_SCHEDULE', d.trim()));
  if (delays.length > 50) throw new ConfigError('WEBHOOKS_RETRY_SCHEDULE: at most 50 delays');
  return delays;
}

function parseDeliverySettings(env: NodeJS.ProcessEnv): DeliverySettings {
  const settings: DeliverySettings = {};
  const retrySchedule = parseRetrySchedule(env.WEBHOOKS_RETRY_SCHEDULE);
  if (retrySchedule) settings.retrySchedule = retrySchedule;
  if (env.WEBHOOKS_LEASE_MS) settings.leaseMs = parseDuration('WEBHOOKS_LEASE_MS', env.WEBHOOKS_LEASE_MS, { min: 3000 });
  if (env.WEBHOOKS_POLL_INTERVAL_MS) settings.pollIntervalMs = parseDuration('WEBHOOKS_POLL_INTERVAL_MS', env.WEBHOOKS_POLL_INTERVAL_MS, { min: 10, max: 3600_000 });
  return settings;
}

function parseMetricsToken(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (value.length < 16 || /\s/.test(value)) throw new ConfigError('WEBHOOKS_METRICS_TOKEN must be at least 16 characters, without whitespace');
  return value;
}

/** `WEBHOOKS_OWNER_SCOPES=alice:/acme/sales,bob:/acme`: each owner's tenant scope; owners not listed are global. */
function parseOwnerScopes(value: string | undefined): Map<string, string> {
  const scopes = new Map<string, string>();
  for (const entry of (value ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const separator = entry.indexOf(':');
    const owner = entry.slice(0, separator).trim();
    const scope = entry.slice(separator + 1).trim();
    if (separator <= 0 || !/^\/[^\s]*$/.test(scope)) throw new ConfigError('WEBHOOKS_OWNER_SCOPES must be a comma-separated list of owner:/absolute/path pairs');
    if (scopes.has(owner)) throw new ConfigError(`WEBHOOKS_OWNER_SCOPES: owner "${owner}" is listed twice`);
    scopes.set(owner, scope);
  }
  return scopes;
}

/** Reads and checks every variable; throws `ConfigError` with a one-line message on the first bad one. */
export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    role: parseRole(env.WEBHOOKS_ROLE),
    port: parsePort(env.PORT),
    workerPort: env.WEBHOOKS_WORKER_PORT ? parsePort(env.WEBHOOKS_WORKER_PORT, 'WEBHOOKS_WORKER_PORT') : null,
    database: parseDatabase(env.DATABASE_URL),
    redisUrl: env.REDIS_URL ? env.REDIS_URL : null,
    apiKeys: parseApiKeys(env.WEBHOOKS_API_KEYS),
    ownerScopes: parseOwnerScopes(env.WEBHOOKS_OWNER_SCOPES),
    allowHttp: parseBoolean('WEBHOOKS_ALLOW_HTTP', env.WEBHOOKS_ALLOW_HTTP, false),
    allowPrivateNetworks: parsePrivateNetworks(env.WEBHOOKS_ALLOW_PRIVATE_NETWORKS),
    tlsCa: parseCaFile(env.WEBHOOKS_TLS_CA_FILE),
    secretKey: parseSecretKey(env.WEBHOOKS_SECRET_KEY),
    previousSecretKeys: (env.WEBHOOKS_PREVIOUS_SECRET_KEYS ?? '')
      .split(',')
      .map((k) => k.trim())
      .filter(Boolean)
      .map((k) => parseSecretKey(k, 'WEBHOOKS_PREVIOUS_SECRET_KEYS')!),
    delivery: parseDeliverySettings(env),
    metricsToken: parseMetricsToken(env.WEBHOOKS_METRICS_TOKEN),
    healthMaxOutboxLagMs: env.WEBHOOKS_HEALTH_MAX_OUTBOX_LAG ? parseDuration('WEBHOOKS_HEALTH_MAX_OUTBOX_LAG', env.WEBHOOKS_HEALTH_MAX_OUTBOX_LAG, { min: 1 }) : 5 * 60_000,
  };
}
