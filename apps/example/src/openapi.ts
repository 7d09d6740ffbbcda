import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** Where the API's description is served: the UI, and the OpenAPI document as JSON. */
export const OPENAPI_UI_PATH = 'docs';
export const OPENAPI_JSON_PATH = 'docs-json';

/** The OpenAPI document of the app's routes (OpenAPI 3.0), as served at `/docs-json`. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('nest-webhooks example')
    .setDescription(
      'Management API for webhook subscriptions and their delivery attempts, plus a demo order domain whose changes are ' +
        'delivered as webhooks. Every error answers `{ statusCode, error, message, field?, details? }` (ApiError); every ' +
        'list answers `{ data, nextCursor }`.',
    )
    .setVersion('0.1.0')
    .setLicense('MIT', 'https://opensource.org/licenses/MIT')
    .addServer('/', 'The server this document is served from')
    .addTag('webhook subscriptions', "Where the caller's events are delivered: create, list, change, test and rotate the signing secret")
    .addTag('webhook attempts', 'Deliveries: what was sent, what came back, and redelivery')
    .addTag('demo: orders', 'A small domain whose changes are published as order.created, order.updated and order.deleted')
    .addTag('health', 'Readiness: the database, the outbox and the delivery worker')
    .addTag('observability', 'Prometheus metrics of the webhooks')
    .addSecurity('bearer', {
      type: 'http',
      scheme: 'bearer',
      description: 'An API key from WEBHOOKS_API_KEYS, sent as `Authorization: Bearer <key>`. Keys are opaque strings (not JWTs) that map to an owner.',
    })
    .addSecurity('metrics', {
      type: 'http',
      scheme: 'bearer',
      description: 'WEBHOOKS_METRICS_TOKEN, when it is set, sent as `Authorization: Bearer <token>` (an opaque string)',
    })
    .build();
  return SwaggerModule.createDocument(app, config, {
    operationIdFactory: (_controller, method) => method,
  });
}

/** Serves the UI at `/docs` and the document at `/docs-json`. */
export function setupOpenApi(app: INestApplication): void {
  SwaggerModule.setup(OPENAPI_UI_PATH, app, createOpenApiDocument(app), { jsonDocumentUrl: OPENAPI_JSON_PATH });
}
