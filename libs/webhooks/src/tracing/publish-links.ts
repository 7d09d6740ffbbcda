import type { SpanContext } from '@opentelemetry/api';

/** Publish spans remembered at most, oldest forgotten first: attempts another process sends are never taken. */
const MAX_REMEMBERED = 10_000;

/**
 * The publish span of each attempt written in this process, until its first try here links to it. An attempt is
 * written, then sent later from the queue (in another async context), so the publish span cannot be the try's
 * active parent: the try span gets a link to it instead.
 */
export class PublishLinks {
  private readonly contexts = new Map<string, SpanContext>();

  constructor(private readonly max = MAX_REMEMBERED) {}

  remember(attemptId: string, context: SpanContext): void {
    if (this.contexts.size >= this.max) this.contexts.delete(this.contexts.keys().next().value!);
    this.contexts.set(attemptId, context);
  }

  /** The publish span of the attempt, forgotten as it is taken. */
  take(attemptId: string): SpanContext | undefined {
    if (this.contexts.size === 0) return undefined;
    const context = this.contexts.get(attemptId);
    if (context) this.contexts.delete(attemptId);
    return context;
  }

  get size(): number {
    return this.contexts.size;
  }
}
