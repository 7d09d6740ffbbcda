import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Development credentials kept beside the SQLite database so they survive restarts. */
export interface DevelopmentCredentials {
  apiKey: string | null;
  ownerId: string;
  secretKey: string | null;
}

export const DEVELOPMENT_OWNER = 'developer';

function readOrCreate(path: string, create: () => string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  mkdirSync(dirname(path), { recursive: true });
  const value = create();
  writeFileSync(path, `${value}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return value;
}

/**
 * With no `WEBHOOKS_API_KEYS`, a development API key for the owner `developer`; with no
 * `WEBHOOKS_SECRET_KEY`, a development key for secrets at rest. Both are files (mode 600) in the database's
 * directory, created on first start.
 */
export function developmentCredentials(databasePath: string, needApiKey: boolean, needSecretKey: boolean): DevelopmentCredentials {
  const dir = dirname(databasePath);
  return {
    ownerId: DEVELOPMENT_OWNER,
    apiKey: needApiKey ? readOrCreate(join(dir, 'dev-api-key'), () => `dev_${randomBytes(24).toString('base64url')}`) : null,
    secretKey: needSecretKey ? readOrCreate(join(dir, 'dev-secret-key'), () => randomBytes(32).toString('base64')) : null,
  };
}
