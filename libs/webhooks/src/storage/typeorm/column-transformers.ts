import type { ValueTransformer } from 'typeorm';

/**
 * Times are stored as integer milliseconds since the epoch: the same representation and ordering on SQLite and
 * PostgreSQL, and simple to compare in the raw SQL of the claim queries. (`bigint` comes back as a string
 * from PostgreSQL, hence `Number`.)
 */
export const epochMillis: ValueTransformer = {
  to: (value: Date | null | undefined) => (value instanceof Date ? value.getTime() : (value ?? null)),
  from: (value: string | number | null) => (value === null || value === undefined ? null : new Date(Number(value))),
};

/**
 * JSON columns whose object values contain dates: revived on read. `encode` writes the text (by default
 * `JSON.stringify`; the attempt columns pass theirs from `attemptJson`).
 */
export function jsonWithDates(dateKeys: readonly string[], encode: (value: never) => string | null = JSON.stringify): ValueTransformer {
  return {
    to: (value: unknown) => (value === null || value === undefined ? null : encode(value as never)),
    from: (value: string | null) => {
      if (value === null || value === undefined) return null;
      const parsed = JSON.parse(value) as unknown;
      const fix = (item: unknown): unknown => {
        if (Array.isArray(item)) return item.map(fix);
        if (item && typeof item === 'object') {
          const record = item as Record<string, unknown>;
          for (const key of dateKeys) if (typeof record[key] === 'string' || typeof record[key] === 'number') record[key] = new Date(record[key] as string);
          for (const value of Object.values(record)) if (value && typeof value === 'object') fix(value);
        }
        return item;
      };
      return fix(parsed);
    },
  };
}
