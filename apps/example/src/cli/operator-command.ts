import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../app.module.js';
import { ConfigError, loadAppConfig } from '../config/app-config.js';

/** An operator command, made once its arguments are read and checked (before anything connects). */
export type OperatorCommand = () => (context: INestApplicationContext) => Promise<void>;

/**
 * Runs an operator command against the database of the app's environment: the app's module without a delivery
 * worker (the command writes what the workers act on and sends nothing), closed afterwards. A failure prints one
 * line (`Configuration error: …` or `<failure>: …`) and exits with 1.
 */
export function runOperatorCommand(failure: string, prepare: OperatorCommand): void {
  const run = async () => {
    const command = prepare();
    const config = loadAppConfig();
    if (!config.secretKey || !config.apiKeys) throw new ConfigError('set WEBHOOKS_SECRET_KEY and WEBHOOKS_API_KEYS');
    const context = await NestFactory.createApplicationContext(
      AppModule.register({ config, apiKeys: config.apiKeys, secretKey: config.secretKey, delivery: { worker: false } }),
      { logger: ['error', 'warn'] },
    );
    try {
      await command(context);
    } finally {
      await context.close();
    }
  };
  run().catch((error: unknown) => {
    console.error(`${error instanceof ConfigError ? 'Configuration error' : failure}: ${(error as Error).message}`);
    process.exit(1);
  });
}
