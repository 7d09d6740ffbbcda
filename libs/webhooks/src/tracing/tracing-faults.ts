import { Logger } from '@nestjs/common';
import { describeError } from '../core/describe-error.js';

/**
 * Where the library's tracing calls land when they throw (an SDK, sampler, processor or exporter that fails): the
 * first failure is logged, later ones are not, and the work they belong to goes on untraced. Tracing never breaks a
 * delivery or a publish.
 */
export class TracingFaults {
  private readonly logger = new Logger('WebhookTracing');
  private reported = false;

  report(what: string, error: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.logger.warn(`Tracing failed (${what}): ${describeError(error)}. Webhooks go on untraced where it fails; later tracing failures are not logged.`);
  }

  /** `work()`, or `fallback` (reported) when it throws. */
  guard<T>(what: string, work: () => T, fallback: T): T {
    try {
      return work();
    } catch (error) {
      this.report(what, error);
      return fallback;
    }
  }
}
