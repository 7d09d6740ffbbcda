/** The driver's error code of a failed query (SQLite's `SQLITE_BUSY`, PostgreSQL's SQLSTATE). */
export function errorCode(error: unknown): string | undefined {
  return (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (error as { code?: string })?.code;
}

/**
 * Worth running again as it was: SQLite's busy database, or PostgreSQL ending one of two transactions that waited for
 * each other (deadlock_detected) or a serialization failure. Nothing of the failed statement or transaction stays.
 */
function isTransient(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT' || code === '40P01' || code === '40001';
}

const BUSY_RETRY_LIMIT_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` again, with backoff, while the database reports a busy file or a deadlock, up to a limit. */
export async function retryWhileTransient<T>(work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  for (let delay = 2; ; delay = Math.min(delay * 2, 100)) {
    try {
      return await work();
    } catch (error) {
      if (!isTransient(error) || Date.now() - started > BUSY_RETRY_LIMIT_MS) throw error;
      await sleep(delay);
    }
  }
}
