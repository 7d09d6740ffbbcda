import { type INestApplicationContext, Logger, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule, type ExampleAppSettings } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { isJsonBody } from './common/json-content-type.js';
import { verifyJsonBody } from './common/json-body-guard.js';
import { validationException } from './common/validation-errors.js';
import { isSignInForm } from './dashboard/dashboard-session.js';
import { setupOpenApi } from './openapi.js';
import { developmentCredentials } from './config/development-credentials.js';

export interface ExampleApp {
  app: NestExpressApplication;
  /** The generated development API key when `WEBHOOKS_API_KEYS` is not set. */
  developmentApiKey: string | null;
}

export interface ExampleAppOptions {
  logger?: LogLevel[] | false;
  delivery?: ExampleAppSettings['delivery'];
}

/** API keys and the secrets-at-rest key: from the environment, or generated beside a SQLite file for development. */
function credentials(config: AppConfig): { apiKeys: Map<string, string>; secretKey: string; developmentApiKey: string | null } {
  const sqlitePath = config.database.type === 'sqlite' ? config.database.path : null;
  const needsApiKeys = config.role !== 'worker';
  if (((needsApiKeys && !config.apiKeys) || !config.secretKey) && !sqlitePath) {
    throw new Error(
      needsApiKeys
        ? 'With PostgreSQL, set WEBHOOKS_API_KEYS and WEBHOOKS_SECRET_KEY (development keys are only generated beside a SQLite file)'
        : 'With PostgreSQL, set WEBHOOKS_SECRET_KEY (development keys are only generated beside a SQLite file)',
    );
  }
  const dev = sqlitePath ? developmentCredentials(sqlitePath, needsApiKeys && !config.apiKeys, !config.secretKey) : null;
  return {
    apiKeys: config.apiKeys ?? (dev?.apiKey ? new Map([[dev.apiKey, dev.ownerId]]) : new Map()),
    secretKey: config.secretKey ?? dev!.secretKey!,
    developmentApiKey: config.apiKeys ? null : (dev?.apiKey ?? null),
  };
}

function warnAboutRedis(config: AppConfig): void {
  if (config.redisUrl) new Logger('ExampleApp').warn('REDIS_URL is set but not used: the database is the queue (docs/replicas.md)');
}

/**
 * A delivery worker (`WEBHOOKS_ROLE=worker`): the webhook module and the database. With `WEBHOOKS_WORKER_PORT` it
 * also listens there for `/health` and `/metrics` (its tries are counted where they happen); otherwise no HTTP.
 */
export async function createExampleWorker(config: AppConfig, options: ExampleAppOptions = {}): Promise<{ app: INestApplicationContext; port: number | null }> {
  const { apiKeys, secretKey } = credentials(config);
  const module = AppModule.register({ config, apiKeys, secretKey, delivery: options.delivery });
  const logger = options.logger ?? (['log', 'warn', 'error'] as LogLevel[]);
  warnAboutRedis(config);
  if (config.workerPort === null) {
    const context = await NestFactory.createApplicationContext(module, { logger });
    context.enableShutdownHooks();
    return { app: context, port: null };
  }
  const app = await NestFactory.create<NestExpressApplication>(module, { logger, bodyParser: false });
  if (!config.metricsToken) new Logger('ExampleApp').log('GET /metrics is open: set WEBHOOKS_METRICS_TOKEN to require a bearer token');
  app.enableShutdownHooks();
  await app.listen(config.workerPort);
  return { app, port: (app.getHttpServer().address() as { port: number }).port };
}

/** Builds the example application (not yet listening) from a checked configuration. */
export async function createExampleApp(config: AppConfig, options: ExampleAppOptions = {}): Promise<ExampleApp> {
  if (config.role === 'worker') throw new Error('WEBHOOKS_ROLE=worker serves only /health and /metrics: use createExampleWorker');
  const { apiKeys, secretKey, developmentApiKey } = credentials(config);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.register({ config, apiKeys, secretKey, delivery: options.delivery }), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    bodyParser: false,
  });
  warnAboutRedis(config);
  if (!config.metricsToken) new Logger('ExampleApp').log('GET /metrics is open: set WEBHOOKS_METRICS_TOKEN to require a bearer token');
  // JSON bodies of POST, PUT and PATCH only; any other body is refused with 415 (JsonContentTypeGuard) or never read.
  app.useBodyParser('json', { limit: '100kb', type: isJsonBody, verify: verifyJsonBody } as Parameters<typeof app.useBodyParser>[1]);
  app.useBodyParser('urlencoded', { limit: '4kb', extended: false, type: isSignInForm } as Parameters<typeof app.useBodyParser>[1]);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: false,
      exceptionFactory: validationException,
    }),
  );
  app.enableShutdownHooks();
  setupOpenApi(app);
  return { app, developmentApiKey };
}
