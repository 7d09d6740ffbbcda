import { answerWithin, NoAnswerError } from './answer-within.js';

/**
 * A read shared by every caller that asks while it runs (concurrent scrapes or probes cost one query), each caller
 * waiting at most its own bound. A read that outlasts a bound stops being shared, so the next caller asks again
 * and sees a store that has recovered instead of the read that hangs.
 */
export class SharedRead<T> {
  private current: Promise<T> | null = null;

  constructor(private readonly load: () => Promise<T>) {}

  /** The running read's answer, or a new read's; rejects with `NoAnswerError` after `timeoutMs`. */
  async read(timeoutMs: number): Promise<T> {
    const current = (this.current ??= this.start());
    try {
      return await answerWithin(current, timeoutMs);
    } catch (error) {
      if (error instanceof NoAnswerError) this.drop(current);
      throw error;
    }
  }

  private start(): Promise<T> {
    // A load that throws at once rejects like one that fails later.
    const started: Promise<T> = (async () => this.load())().finally(() => this.drop(started));
    return started;
  }

  private drop(read: Promise<T>): void {
    if (this.current === read) this.current = null;
  }
}
