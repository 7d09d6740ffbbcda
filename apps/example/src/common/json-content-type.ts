import { type NestMiddleware, UnsupportedMediaTypeException } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';

/** Methods whose bodies the API reads; bodies of other requests are never read. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Whether the request carries a body at all (an empty one, `Content-Length: 0`, counts as none). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Whether the Content-Type is `application/json` (any parameters, such as a charset, are the parser's business). */
function isJson(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && type.split(';', 1)[0]!.trim().toLowerCase() === 'application/json';
}

/** The JSON body parser's `type` option: parse JSON bodies of POST, PUT and PATCH, and nothing else. */
export function isJsonBody(req: IncomingMessage): boolean {
  return BODY_METHODS.has(req.method ?? '') && isJson(req);
}

/**
 * Refuses a body that is not JSON (`text/plain`, a form, or no Content-Type at all) with 415, before any
 * validation: otherwise it would be left unparsed and answered as if the fields were missing.
 */
export class JsonContentTypeGuard implements NestMiddleware {
  use(req: IncomingMessage, _res: unknown, next: () => void): void {
    if (BODY_METHODS.has(req.method ?? '') && hasBody(req) && !isJson(req)) {
      throw new UnsupportedMediaTypeException('The request body must be JSON: send it with Content-Type: application/json');
    }
    next();
  }
}
