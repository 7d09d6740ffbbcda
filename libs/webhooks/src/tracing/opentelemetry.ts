import { Logger } from '@nestjs/common';
import { describeError } from '../core/describe-error.js';

/** The `@opentelemetry/api` module, when the application has it installed. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

const NOT_INSTALLED = new Set(['ERR_MODULE_NOT_FOUND', 'MODULE_NOT_FOUND']);

/**
 * Loads `@opentelemetry/api` (an optional peer): `null` when the application has not installed it, and tracing is
 * then off. Any other failure to load it is logged (tracing is off then too). Loaded once, when the module starts,
 * so nothing else waits for it.
 */
export async function loadOpenTelemetryApi(load: () => Promise<OpenTelemetryApi> = () => import('@opentelemetry/api')): Promise<OpenTelemetryApi | null> {
  try {
    return await load();
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !NOT_INSTALLED.has(code)) {
      new Logger('WebhookTracing').warn(`@opentelemetry/api could not be loaded, so webhooks are not traced: ${describeError(error)}`);
    }
    return null;
  }
}
