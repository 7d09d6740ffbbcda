import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import { STATUS_CODES } from 'node:http';
import { webhookErrorAnswer } from '../webhooks/webhook-errors.js';
import type { ApiError, ApiErrorAnswer, ApiErrorDetail } from './api-error.js';

/** An error of the http-errors kind (body-parser, Express) that Nest left as it was. */
interface HttpError extends Error {
  status: number;
  expose: boolean;
}

const isHttpError = (error: unknown): error is HttpError =>
  error instanceof Error && typeof (error as HttpError).status === 'number' && typeof (error as HttpError).expose === 'boolean';

/** The result of a terminus health check, which its 503 carries as the body. */
function isHealthCheckResult(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as { status?: unknown }).status === 'error' && 'details' in value;
}

/** What an `HttpException` says: Nest's string or `{ message }`, or ours with `field` and `details`. */
function fromHttpException(exception: HttpException): ApiErrorAnswer {
  const statusCode = exception.getStatus();
  const response = exception.getResponse();
  // The body parser's errors reach here wrapped by Nest; ours (json-body-guard) say which key is at fault.
  const cause = exception.cause as { field?: unknown; type?: unknown } | undefined;
  const causeField = cause?.field;
  if (cause?.type === 'entity.parse.failed') return { statusCode, message: `The request body is not valid JSON: ${exception.message}` };
  if (typeof response === 'string') return { statusCode, message: response, ...(typeof causeField === 'string' ? { field: causeField } : {}) };
  const { message, field = causeField, details } = response as { message?: unknown; field?: unknown; details?: ApiErrorDetail[] };
  return {
    statusCode,
    message: Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : (STATUS_CODES[statusCode] ?? 'Error'),
    ...(typeof field === 'string' ? { field } : {}),
    ...(Array.isArray(details) ? { details } : {}),
  };
}

/**
 * Every error the API answers, in one shape: `{ statusCode, error, message, field?, details? }` (`ApiError`).
 * Validation, the body parser, guards, the router and the library all end here; anything unexpected is a 500
 * that says nothing about its cause (it is logged).
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    // A failed health check answers 503 with its result (terminus' `{ status, info, error, details }`), as documented.
    if (exception instanceof ServiceUnavailableException && isHealthCheckResult(exception.getResponse())) {
      response.status(HttpStatus.SERVICE_UNAVAILABLE).json(exception.getResponse());
      return;
    }
    const answer = this.answer(exception);
    if (answer.statusCode === HttpStatus.UNAUTHORIZED) response.setHeader('WWW-Authenticate', 'Bearer');
    const { statusCode, message, ...about } = answer;
    const body: ApiError = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...about };
    response.status(statusCode).json(body);
  }

  private answer(exception: unknown): ApiErrorAnswer {
    const known = webhookErrorAnswer(exception);
    if (known) return known;
    if (exception instanceof HttpException && exception.getStatus() < 500) return fromHttpException(exception);
    if (isHttpError(exception) && exception.status >= 400 && exception.status < 500) {
      return { statusCode: exception.status, message: exception.expose ? exception.message : (STATUS_CODES[exception.status] ?? 'Error') };
    }
    this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    const statusCode = exception instanceof HttpException ? exception.getStatus() : HttpStatus.INTERNAL_SERVER_ERROR;
    return { statusCode, message: STATUS_CODES[statusCode] ?? 'Internal Server Error' };
  }
}
