import { type ArgumentsHost, BadRequestException, HttpException, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidWebhookSubscriptionError, WebhookSubscriptionNotFoundError, WebhookSubscriptionOperationError } from 'nest-webhooks';
import { ApiExceptionFilter } from '../../apps/example/src/common/api-exception.filter.js';

/** Runs the filter on one error and returns what it answered: status, JSON body and headers. */
function answer(error: unknown): { status: number; body: Record<string, unknown>; headers: Record<string, string> } {
  const sent = { status: 0, body: {} as Record<string, unknown>, headers: {} as Record<string, string> };
  const response = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: Record<string, unknown>) {
      sent.body = body;
      return this;
    },
    setHeader(name: string, value: string) {
      sent.headers[name.toLowerCase()] = value;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => response }) } as unknown as ArgumentsHost;
  new ApiExceptionFilter().catch(error, host);
  return sent;
}

describe("the example app's error answers (ApiExceptionFilter)", () => {
  afterEach(() => vi.restoreAllMocks());

  it('an unexpected error is a 500 that says nothing of its cause, and is logged', () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    const { status, body } = answer(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'));
    expect(status).toBe(500);
    expect(body).toEqual({ statusCode: 500, error: 'Internal Server Error', message: 'Internal Server Error' });
    expect(logged).toHaveBeenCalledWith(expect.stringContaining('ECONNREFUSED'));
    expect(answer('a thrown string').body).toMatchObject({ statusCode: 500 });
  });

  it("Nest's exceptions keep their status in the one shape, a string message and no array", () => {
    expect(answer(new NotFoundException()).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found' });
    expect(answer(new BadRequestException(['a must be x', 'b must be y'])).body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'a must be x; b must be y' });
    expect(answer(new BadRequestException({ message: 'bad', field: 'a' })).body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'bad', field: 'a' });
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(answer(new ServiceUnavailableException('database down')).body).toEqual({ statusCode: 503, error: 'Service Unavailable', message: 'Service Unavailable' });
    expect(answer(new HttpException('teapot', 418)).body).toEqual({ statusCode: 418, error: "I'm a Teapot", message: 'teapot' });
  });

  it('401 carries WWW-Authenticate: Bearer', () => {
    const { status, headers } = answer(new HttpException('A valid API key is required', 401));
    expect(status).toBe(401);
    expect(headers['www-authenticate']).toBe('Bearer');
  });

  it("the library's errors: the reason without the developer's hint, 404 saying nothing, 409 for operations", () => {
    const invalid = answer(new InvalidWebhookSubscriptionError('payloadType', '"Invoice" is not a registered payload type', "register it with @WebhookPayload('Invoice')"));
    expect(invalid.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid webhook subscription field "payloadType": "Invoice" is not a registered payload type',
      field: 'payloadType',
    });
    expect(answer(new WebhookSubscriptionNotFoundError('sub_secret_name')).body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found' });
    expect(answer(new WebhookSubscriptionOperationError('Attempt "a" is still pending')).body).toEqual({ statusCode: 409, error: 'Conflict', message: 'Attempt "a" is still pending' });
  });

  it('errors of the http-errors kind answer their 4xx, with their message only when it may be shown', () => {
    const exposed = Object.assign(new Error('request entity too large'), { status: 413, statusCode: 413, expose: true });
    expect(answer(exposed).body).toEqual({ statusCode: 413, error: 'Payload Too Large', message: 'request entity too large' });
    const hidden = Object.assign(new Error('internal detail'), { status: 400, statusCode: 400, expose: false });
    expect(answer(hidden).body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'Bad Request' });
  });
});
