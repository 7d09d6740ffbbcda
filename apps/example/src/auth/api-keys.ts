import { createHash } from 'node:crypto';

export const API_KEYS = Symbol('API_KEYS');

const digest = (key: string) => createHash('sha256').update(key).digest('hex');

/** API keys by digest → owner id; keys themselves are not kept in memory longer than needed. */
export class ApiKeys {
  private readonly owners = new Map<string, string>();

  constructor(keys: Map<string, string>) {
    for (const [key, owner] of keys) this.owners.set(digest(key), owner);
  }

  ownerOf(key: string): string | undefined {
    return this.owners.get(digest(key));
  }
}
