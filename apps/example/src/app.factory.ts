import { Logger, type LogLevel, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AppModule, type ExampleAppSettings } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { verifyJsonBody } from './common/json-body-guard.js';
import { developmentCredentials } from './config/development-credentials.js';

export interface ExampleApp {
  app: NestExpressApplication;
  /** The generated development API key when `WEBHOOKS_API_KEYS` is not set. */
  developmentApiKey: string | null;
}

/** Builds the example application (not yet listening) from a checked configuration. */
export async function createExampleApp(
  config: AppConfig,
  options: { logger?: LogLevel[] | false; delivery?: ExampleAppSettings['delivery'] } = {},
): Promise<ExampleApp> {
  const sqlitePath = config.database.type === 'sqlite' ? config.database.path : null;
  if ((!config.apiKeys || !config.secretKey) && !sqlitePath) {
    throw new Error('With PostgreSQL, set WEBHOOKS_API_KEYS and WEBHOOKS_SECRET_KEY (development keys are only generated beside a SQLite file)');
  }
  const dev = sqlitePath ? developmentCredentials(sqlitePath, !config.apiKeys, !config.secretKey) : null;
  const apiKeys = config.apiKeys ?? new Map([[dev!.apiKey!, dev!.ownerId]]);
  const secretKey = config.secretKey ?? dev!.secretKey!;

  const app = await NestFactory.create<NestExpressApplication>(AppModule.register({ config, apiKeys, secretKey, delivery: options.delivery }), {
    logger: options.logger ?? ['log', 'warn', 'error'],
    bodyParser: false,
  });
  if (config.redisUrl) {
    new Logger('ExampleApp').warn('REDIS_URL is set, but this build has no BullMQ queue yet: deliveries use the in-process queue and the database outbox');
  }
  app.useBodyParser('json', { limit: '100kb', verify: verifyJsonBody } as Parameters<typeof app.useBodyParser>[1]);
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: false,
    }),
  );
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('nest-webhooks example')
      .setDescription('Management API for webhook subscriptions and their delivery attempts, plus a demo order domain.')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key from WEBHOOKS_API_KEYS' })
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return { app, developmentApiKey: config.apiKeys ? null : dev!.apiKey };
}
