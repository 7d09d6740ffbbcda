/** The `@opentelemetry/api` module, when the application has it installed. */
export type OpenTelemetryApi = typeof import('@opentelemetry/api');

/**
 * Loads `@opentelemetry/api` (an optional peer): `null` when the application has not installed it, and tracing is
 * then off. Loaded once, when the module starts, so nothing else waits for it.
 */
export async function loadOpenTelemetryApi(): Promise<OpenTelemetryApi | null> {
  try {
    return await import('@opentelemetry/api');
  } catch {
    return null;
  }
}
