import { HttpStatus } from '@nestjs/common';
import {
  InvalidWebhookSubscriptionError,
  PayloadTooLargeError,
  UnknownWebhookDialectError,
  WebhookAttemptNotFoundError,
  WebhookSubscriptionNotFoundError,
  WebhookSubscriptionOperationError,
} from 'nest-webhooks';
import type { ApiErrorAnswer } from '../common/api-error.js';

/**
 * A library error as the API answers it, or `null` for anything else. Messages meant for the developer are not
 * shown: an invalid field says what is wrong without the hint on how to fix it in code, and a missing subscription
 * or attempt says no more than an unknown route.
 */
export function webhookErrorAnswer(error: unknown): ApiErrorAnswer | null {
  if (error instanceof InvalidWebhookSubscriptionError) {
    return { statusCode: HttpStatus.BAD_REQUEST, message: `Invalid webhook subscription field "${error.field}": ${error.reason}`, field: error.field };
  }
  if (error instanceof UnknownWebhookDialectError) return { statusCode: HttpStatus.BAD_REQUEST, message: error.message, field: 'dialect' };
  if (error instanceof PayloadTooLargeError) return { statusCode: HttpStatus.PAYLOAD_TOO_LARGE, message: error.message };
  if (error instanceof WebhookSubscriptionNotFoundError || error instanceof WebhookAttemptNotFoundError) {
    return { statusCode: HttpStatus.NOT_FOUND, message: 'Not Found' };
  }
  if (error instanceof WebhookSubscriptionOperationError) return { statusCode: HttpStatus.CONFLICT, message: error.message };
  return null;
}
