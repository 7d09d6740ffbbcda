import { BadRequestException, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Keys that could reach an object's prototype; class-transformer and ValidationPipe silently drop them. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/** Deeper JSON is refused before any library walks it recursively. */
export const MAX_JSON_DEPTH = 32;

/** An http-errors-like error, answered by the body parser's error path as a 400 with this message. */
class BodyRejected extends Error {
  readonly status = 400;
  readonly statusCode = 400;
  readonly expose = true;
  readonly type = 'entity.verify.failed';

  constructor(
    message: string,
    /** The key at fault, when there is one. */
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The nesting depth of a JSON text, counted without parsing (strings and escapes are skipped). */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) max = Math.max(max, ++depth);
    else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return max;
}

/**
 * `verify` hook of the JSON body parser: refuses bodies nested deeper than `MAX_JSON_DEPTH` and bodies with
 * prototype keys anywhere, with a 400 that names the problem (otherwise they would be dropped silently, or
 * overflow the stack of recursive validators).
 */
export function verifyJsonBody(_req: unknown, _res: unknown, buffer: Buffer): void {
  const text = buffer.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new BodyRejected(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return; // Malformed JSON is reported by the parser itself.
  }
  const path = forbiddenKeyPath(parsed, '');
  if (path !== null) throw new BodyRejected(`request body contains the forbidden key "${path}"`, path);
}

/** The path of the first prototype key, top-down (JSON.parse keeps `__proto__` as an own property). */
function forbiddenKeyPath(value: unknown, prefix: string): string | null {
  if (value === null || typeof value !== 'object') return null;
  for (const key of Object.keys(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (FORBIDDEN_KEYS.has(key)) return path;
    const inner = forbiddenKeyPath((value as Record<string, unknown>)[key], path);
    if (inner !== null) return inner;
  }
  return null;
}

/** Refuses query strings with prototype keys (the validation pipe would drop them silently). */
export class QueryKeyGuard implements NestMiddleware {
  use(req: Request, _res: Response, next: NextFunction): void {
    for (const key of Object.keys(req.query ?? {})) {
      if (FORBIDDEN_KEYS.has(key)) throw new BadRequestException({ message: `query contains the forbidden parameter "${key}"`, field: key });
    }
    next();
  }
}
