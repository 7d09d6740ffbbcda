/**
 * The requests a transport has in flight, so one listener per shutdown signal aborts them all (instead of one
 * listener added and removed per request, which showed up in the delivery profile).
 */
export class InFlightRequests {
  private readonly controllers = new Set<AbortController>();
  private readonly watched = new WeakSet<AbortSignal>();

  /** A controller for one request, aborted when `shutdown` fires. Call `done` when the request ends. */
  start(shutdown: AbortSignal | undefined): AbortController {
    const controller = new AbortController();
    if (shutdown) {
      if (shutdown.aborted) controller.abort(shutdown.reason);
      else if (!this.watched.has(shutdown)) {
        this.watched.add(shutdown);
        shutdown.addEventListener('abort', () => this.abortAll(shutdown.reason), { once: true });
      }
    }
    this.controllers.add(controller);
    return controller;
  }

  done(controller: AbortController): void {
    this.controllers.delete(controller);
  }

  abortAll(reason?: unknown): void {
    for (const controller of this.controllers) controller.abort(reason);
  }
}
