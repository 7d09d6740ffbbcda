/** A read that gave no answer within its bound (`answerWithin`). */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

/** `work`, or a `NoAnswerError` once `timeoutMs` passed without an answer (`work` itself goes on). */
export async function answerWithin<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerError(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
