import { type ArgumentsHost, Catch, type ExceptionFilter, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { InvalidWebhookSubscriptionError, PayloadTooLargeError, UnknownWebhookDialectError, WebhookAttemptNotFoundError, WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from 'nest-webhooks';

const STATUS: Array<[Function, number, string]> = [
  [InvalidWebhookSubscriptionError, HttpStatus.BAD_REQUEST, 'Bad Request'],
  [UnknownWebhookDialectError, HttpStatus.BAD_REQUEST, 'Bad Request'],
  [PayloadTooLargeError, HttpStatus.PAYLOAD_TOO_LARGE, 'Payload Too Large'],
  [WebhookSubscriptionNotFoundError, HttpStatus.NOT_FOUND, 'Not Found'],
  [WebhookAttemptNotFoundError, HttpStatus.NOT_FOUND, 'Not Found'],
  [WebhookSubscriptionOperationError, HttpStatus.CONFLICT, 'Conflict'],
];

/** Library errors as HTTP answers in Nest's standard error shape. */
@Catch(
  InvalidWebhookSubscriptionError,
  UnknownWebhookDialectError,
  PayloadTooLargeError,
  WebhookSubscriptionNotFoundError,
  WebhookAttemptNotFoundError,
  WebhookSubscriptionOperationError,
)
export class WebhookErrorsFilter implements ExceptionFilter {
  catch(error: Error, host: ArgumentsHost): void {
    const [, statusCode, label] = STATUS.find(([type]) => error instanceof type)!;
    const notFound = statusCode === HttpStatus.NOT_FOUND;
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(statusCode)
      .json({ statusCode, message: notFound ? 'Not Found' : error.message, error: label });
  }
}
