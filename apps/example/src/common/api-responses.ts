import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ApiError } from './api-error.js';

/** What each error status means in this API, as the OpenAPI document says it. */
const MEANINGS: Partial<Record<HttpStatus, string>> = {
  [HttpStatus.BAD_REQUEST]:
    'The request is not valid: a field or query parameter (named in `field`; every problem in `details`), malformed JSON, ' +
    'a body nested deeper than 32 levels, or a prototype key (`__proto__`, `constructor`, `prototype`) in the body or query',
  [HttpStatus.UNAUTHORIZED]: 'No API key, or an unknown one: send `Authorization: Bearer <key>`',
  [HttpStatus.NOT_FOUND]: "No such id among the caller's own: another owner's ids answer exactly like unknown ones",
  [HttpStatus.PAYLOAD_TOO_LARGE]: 'The body is over 100 KB',
  [HttpStatus.UNSUPPORTED_MEDIA_TYPE]: 'The body is not JSON: send it with `Content-Type: application/json`',
};

/** A request without a body: what the API checks before the route runs. */
export const QUERY_ERRORS = [HttpStatus.BAD_REQUEST] as const;
/** A request that may carry a body (POST, PATCH): the parser's and validation's answers too. */
export const BODY_ERRORS = [HttpStatus.BAD_REQUEST, HttpStatus.PAYLOAD_TOO_LARGE, HttpStatus.UNSUPPORTED_MEDIA_TYPE] as const;

/**
 * Declares error answers of an operation, each with the `ApiError` schema: the given statuses with their usual
 * meaning, and `specific` ones (such as a 409) with a description of their own.
 */
export function ApiErrorResponses(statuses: readonly HttpStatus[], specific: Partial<Record<HttpStatus, string>> = {}): MethodDecorator & ClassDecorator {
  const all = { ...Object.fromEntries(statuses.map((status) => [status, MEANINGS[status]!])), ...specific } as Record<string, string>;
  return applyDecorators(...Object.entries(all).map(([status, description]) => ApiResponse({ status: Number(status), description, type: ApiError })));
}
