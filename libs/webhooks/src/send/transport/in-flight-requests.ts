/**
 * The requests a transport has in flight, grouped by the caller's abort signal: one listener per signal
 * (instead of one added and removed per request, which showed up in the delivery profile) aborts that signal's
 * requests and no others.
 */
export class InFlightRequests {
  private readonly bySignal = new Map<AbortSignal | undefined, Set<AbortController>>();
  private readonly watched = new WeakSet<AbortSignal>();

  /** A controller for one request, aborted when `signal` fires. Call `done` when the request ends. */
  start(signal: AbortSignal | undefined): AbortController {
    const controller = new AbortController();
    if (signal?.aborted) {
      controller.abort(signal.reason);
      return controller;
    }
    if (signal && !this.watched.has(signal)) {
      this.watched.add(signal);
      signal.addEventListener('abort', () => this.abort(signal), { once: true });
    }
    let group = this.bySignal.get(signal);
    if (!group) this.bySignal.set(signal, (group = new Set()));
    group.add(controller);
    return controller;
  }

  done(controller: AbortController, signal: AbortSignal | undefined): void {
    const group = this.bySignal.get(signal);
    group?.delete(controller);
    if (group?.size === 0) this.bySignal.delete(signal);
  }

  private abort(signal: AbortSignal): void {
    const group = this.bySignal.get(signal);
    this.bySignal.delete(signal);
    for (const controller of group ?? []) controller.abort(signal.reason);
  }
}
