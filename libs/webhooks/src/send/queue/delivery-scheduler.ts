import type { WebhookAttempt } from '../../core/webhook-attempt.js';

export interface DeliveryJob {
  attempt: WebhookAttempt;
  /** Scheme + host + port of the destination: the unit of per-endpoint concurrency and fairness. */
  endpoint: string;
}

interface EndpointQueue {
  readonly key: string;
  jobs: DeliveryJob[];
  head: number;
  active: number;
  ready: boolean;
}

export interface DeliverySchedulerLimits {
  concurrency: number;
  perEndpointConcurrency: number;
  maxQueued: number;
  /** Waiting jobs one endpoint may hold, so a dead endpoint's backlog cannot fill the whole queue. */
  maxQueuedPerEndpoint: number;
}

/**
 * The in-process queue in front of the delivery worker. It has at most `concurrency` requests in flight, at
 * most `perEndpointConcurrency` per endpoint (a job's slot is freed when its request is over, while its outcome
 * is recorded; at most 2 × `concurrency` jobs run in all), and picks endpoints round-robin, so a slow or dead endpoint holds only
 * its own slots and never delays the others. It holds at most `maxQueued` waiting jobs, and at most
 * `maxQueuedPerEndpoint` for one endpoint; `enqueue` refuses more (backpressure: the attempt stays in the store
 * for a later claim, and a dead endpoint's backlog cannot crowd out the others).
 */
export class DeliveryScheduler {
  private readonly endpoints = new Map<string, EndpointQueue>();
  private readonly ready: EndpointQueue[] = [];
  private readyHead = 0;
  private readonly held = new Set<string>();
  private running = 0;
  /** Jobs whose request is over and whose outcome is being recorded. */
  private recording = 0;
  private waiting = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly limits: DeliverySchedulerLimits,
    private readonly run: (job: DeliveryJob, requestDone: () => void) => Promise<void>,
  ) {}

  get active(): number {
    return this.running;
  }

  get queued(): number {
    return this.waiting;
  }

  /** Jobs whose request is over and whose outcome is being recorded. */
  get finishing(): number {
    return this.recording;
  }

  get idle(): boolean {
    return this.running === 0 && this.waiting === 0 && this.recording === 0;
  }

  /** Room for more waiting jobs. */
  get capacity(): number {
    return Math.max(0, this.limits.maxQueued - this.waiting);
  }

  has(attemptId: string): boolean {
    return this.held.has(attemptId);
  }

  /** Ids of attempts waiting or running here (their leases must be kept alive). */
  heldIds(): string[] {
    return [...this.held];
  }

  /** Jobs waiting for one endpoint. */
  waitingFor(endpoint: string): number {
    const queue = this.endpoints.get(endpoint);
    return queue ? queue.jobs.length - queue.head : 0;
  }

  /** Endpoints whose waiting line is full: attempts for them are better left in the store for now. */
  fullEndpoints(): Set<string> {
    const full = new Set<string>();
    for (const queue of this.endpoints.values()) {
      if (queue.jobs.length - queue.head >= this.limits.maxQueuedPerEndpoint) full.add(queue.key);
    }
    return full;
  }

  /** Adds a job; false when the queue or the endpoint's line is full, or the attempt is already held. */
  enqueue(job: DeliveryJob): boolean {
    if (this.waiting >= this.limits.maxQueued || this.held.has(job.attempt.id)) return false;
    let queue = this.endpoints.get(job.endpoint);
    if (queue && queue.jobs.length - queue.head >= this.limits.maxQueuedPerEndpoint) return false;
    if (!queue) {
      queue = { key: job.endpoint, jobs: [], head: 0, active: 0, ready: false };
      this.endpoints.set(job.endpoint, queue);
    }
    queue.jobs.push(job);
    this.held.add(job.attempt.id);
    this.waiting++;
    this.markReady(queue);
    this.pump();
    return true;
  }

  /** Removes every waiting job (not the running ones) and returns them. */
  takeWaiting(): DeliveryJob[] {
    const taken: DeliveryJob[] = [];
    for (const queue of this.endpoints.values()) {
      for (let i = queue.head; i < queue.jobs.length; i++) {
        taken.push(queue.jobs[i]!);
        this.held.delete(queue.jobs[i]!.attempt.id);
      }
      queue.jobs = [];
      queue.head = 0;
      queue.ready = false;
    }
    this.ready.length = 0;
    this.readyHead = 0;
    this.waiting = 0;
    this.cleanup();
    this.notifyIdle();
    return taken;
  }

  /** Removes the jobs waiting for one endpoint (not its running ones) and returns them. */
  takeWaitingFor(endpoint: string): DeliveryJob[] {
    const queue = this.endpoints.get(endpoint);
    if (!queue) return [];
    const taken = queue.jobs.slice(queue.head);
    for (const job of taken) this.held.delete(job.attempt.id);
    this.waiting -= taken.length;
    queue.jobs = [];
    queue.head = 0;
    // A queue marked ready with nothing waiting is skipped by `pump`.
    if (queue.active === 0) this.endpoints.delete(endpoint);
    this.notifyIdle();
    return taken;
  }

  /** Endpoints with jobs waiting or running here. */
  busyEndpoints(): Set<string> {
    return new Set(this.endpoints.keys());
  }

  /** Resolves when nothing is waiting or running. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private markReady(queue: EndpointQueue): void {
    if (!queue.ready && queue.head < queue.jobs.length && queue.active < this.limits.perEndpointConcurrency) {
      queue.ready = true;
      this.ready.push(queue);
    }
  }

  private pump(): void {
    // At most `concurrency` requests in flight, and at most twice that many jobs counting those recording.
    while (this.running < this.limits.concurrency && this.running + this.recording < 2 * this.limits.concurrency && this.readyHead < this.ready.length) {
      const queue = this.ready[this.readyHead++]!;
      queue.ready = false;
      // Its waiting jobs were taken since it was marked ready.
      if (queue.head >= queue.jobs.length) continue;
      const job = queue.jobs[queue.head]!;
      queue.jobs[queue.head++] = undefined as unknown as DeliveryJob;
      if (queue.head > 1024 && queue.head * 2 > queue.jobs.length) {
        queue.jobs = queue.jobs.slice(queue.head);
        queue.head = 0;
      }
      queue.active++;
      this.running++;
      this.waiting--;
      this.markReady(queue);
      void this.execute(queue, job);
    }
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
  }

  /**
   * Runs one job. Its slots (global and per endpoint) count requests in flight: the runner frees them with
   * `requestDone` when the HTTP exchange is over, so the endpoint's next request starts while this outcome is
   * written; the attempt stays held until the job ends.
   */
  private async execute(queue: EndpointQueue, job: DeliveryJob): Promise<void> {
    let requestOver = false;
    const requestDone = () => {
      if (requestOver) return;
      requestOver = true;
      queue.active--;
      this.running--;
      this.recording++;
      this.markReady(queue);
      this.pump();
    };
    try {
      await this.run(job, requestDone);
    } catch {
      // The runner records its own failures; a throw here must not stop the queue.
    } finally {
      if (requestOver) this.recording--;
      else {
        queue.active--;
        this.running--;
      }
      this.held.delete(job.attempt.id);
      this.markReady(queue);
      if (queue.active === 0 && queue.head >= queue.jobs.length && this.endpoints.get(queue.key) === queue) this.endpoints.delete(queue.key);
      this.pump();
      this.notifyIdle();
    }
  }

  private cleanup(): void {
    for (const [key, queue] of this.endpoints) if (queue.active === 0) this.endpoints.delete(key);
  }

  private notifyIdle(): void {
    if (!this.idle || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
