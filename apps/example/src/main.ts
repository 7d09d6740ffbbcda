import 'reflect-metadata';
import { createExampleApp, createExampleWorker } from './app.factory.js';
import { ConfigError, loadAppConfig } from './config/app-config.js';

async function bootstrap(): Promise<void> {
  let config;
  try {
    config = loadAppConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`Configuration error: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  if (config.role === 'worker') {
    const { port } = await createExampleWorker(config);
    if (port !== null) {
      console.log(`nest-webhooks example worker delivering; /health and /metrics on http://localhost:${port} (WEBHOOKS_ROLE=worker)`);
      return;
    }
    console.log(`nest-webhooks example worker delivering (no HTTP server; WEBHOOKS_ROLE=worker)`);
    // Nest's timers do not keep the process alive; a process with no server keeps itself alive until a signal.
    setInterval(() => undefined, 1 << 30);
    return;
  }
  const { app, developmentApiKey } = await createExampleApp(config);
  await app.listen(config.port);
  const { port } = app.getHttpServer().address() as { port: number };
  const base = `http://localhost:${port}`;
  console.log(`nest-webhooks example listening on ${base} (API docs: ${base}/docs)${config.role === 'api' ? ' [api only: workers deliver]' : ''}`);
  if (developmentApiKey) {
    console.log(
      [
        '',
        `Development API key (owner "developer", stored beside the database): ${developmentApiKey}`,
        'Try:',
        `  curl -s -X POST ${base}/webhooks/subscriptions -H 'Authorization: Bearer ${developmentApiKey}' \\`,
        `       -H 'Content-Type: application/json' -d '{"url":"https://example.com/webhooks","events":["order.*"]}'`,
        '',
      ].join('\n'),
    );
  }
}

bootstrap().catch((error: unknown) => {
  console.error(`Failed to start: ${(error as Error)?.message ?? String(error)}`);
  process.exit(1);
});
