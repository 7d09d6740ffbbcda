import type { AttemptCounts } from '../webhook-store.js';

/**
 * A try's outcome, in `recordTry`'s placeholder order (the same values as SQLite's statement): status, message,
 * request, response, tries, history, next_attempt_at, internal (null: unchanged), updated_at, id, the try count the
 * worker took the attempt at.
 */
export type TryOutcomeValues = unknown[];

const RECORD_TRIES = `UPDATE webhook_attempt AS a SET status = v.status, message = v.message, request = v.request, response = v.response,
    tries = v.tries, history = v.history, next_attempt_at = v.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL,
    claimable_at = v.next_attempt_at, internal = COALESCE(v.internal, a.internal), updated_at = v.updated_at
  FROM unnest($1::varchar[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::bigint[], $8::text[], $9::bigint[], $10::varchar[], $11::int[])
    AS v(status, message, request, response, tries, history, next_attempt_at, internal, updated_at, id, previous_tries)
  WHERE a.id = v.id AND a.status = 'pending' AND a.tries = v.previous_tries
  RETURNING a.id`;

/**
 * Claimable attempts leased to a worker, oldest first, skipping rows other workers are claiming right now. A held
 * attempt is claimable when its lease runs out, so the claim never walks past the attempts workers hold.
 */
export const POSTGRES_CLAIM_DUE = `UPDATE webhook_attempt SET lease_owner = $1, lease_expires_at = $2, claimable_at = $2
  WHERE id IN (
    SELECT id FROM webhook_attempt
    WHERE status = 'pending' AND claimable_at <= $3 AND (lease_owner IS NULL OR lease_expires_at <= $3)
      AND NOT (subscription_id = ANY($4::varchar[]))
    ORDER BY claimable_at, id LIMIT $5 FOR UPDATE SKIP LOCKED)
  RETURNING *`;

/**
 * The history rule in one statement: pending attempts counted up to the limit, the newest resolved ones kept so that
 * at most `limit` remain, the older resolved ones deleted (`status <> 'pending'` literally: the resolved index).
 */
export const POSTGRES_TRIM_HISTORY = `WITH pending AS (
    SELECT count(*)::int AS n FROM (SELECT 1 FROM webhook_attempt WHERE subscription_id = $1 AND status = 'pending' LIMIT $2) p),
  keep AS (
    SELECT id, status FROM webhook_attempt WHERE subscription_id = $1 AND status <> 'pending'
    ORDER BY id DESC LIMIT greatest(0, $2 - (SELECT n FROM pending))),
  deleted AS (
    DELETE FROM webhook_attempt d WHERE d.subscription_id = $1 AND d.status <> 'pending' AND NOT EXISTS (SELECT 1 FROM keep k WHERE k.id = d.id)
    RETURNING 1)
  SELECT (SELECT n FROM pending) AS pending,
    (SELECT count(*)::int FROM keep WHERE status = 'failed') AS failed,
    (SELECT count(*)::int FROM keep WHERE status = 'successful') AS successful,
    (SELECT count(*)::int FROM deleted) AS deleted`;

/** PostgreSQL ended the statement as one side of a deadlock, or for a serialization failure: running it again may work. */
function isTransient(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (error as { code?: string })?.code;
  return code === '40P01' || code === '40001';
}

export function trimmedCounts(row: { pending: number; failed: number; successful: number }): AttemptCounts {
  return { total: row.pending + row.failed + row.successful, pending: row.pending, failed: row.failed, successful: row.successful };
}

interface Pending {
  values: TryOutcomeValues;
  resolve: (changed: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit of try outcomes on PostgreSQL: the outcomes recorded during one turn of the event loop are written by
 * one `UPDATE … FROM unnest(…)` (one round trip, one commit), and each caller learns whether its row changed (an
 * attempt resolves exactly once: only a pending row at the same try count is updated). A batch that loses a deadlock
 * is written again one row at a time.
 */
export class PostgresTryBatch {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly query: (sql: string, parameters: unknown[]) => Promise<Array<{ id: string }>>) {}

  /** Resolves with 1 when the row was updated, 0 when the attempt had been resolved or tried meanwhile. */
  submit(values: TryOutcomeValues): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ values, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue.sort((a, b) => ((a.values[9] as string) < (b.values[9] as string) ? -1 : 1));
    this.queue = [];
    if (batch.length === 0) return;
    try {
      await this.write(batch);
    } catch (error) {
      if (batch.length === 1 || !isTransient(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      // Ended as one side of a deadlock (the plan, not the sort, decides the order rows are locked in, and a change
      // cancelling a subscription's attempts locks them in its own): one row at a time cannot deadlock that way.
      for (const p of batch) await this.write([p]).catch((single: unknown) => p.reject(single));
    }
  }

  private async write(batch: Pending[]): Promise<void> {
    const columns = Array.from({ length: 11 }, (_, c) => batch.map((p) => p.values[c]));
    const updated = new Set((await this.query(RECORD_TRIES, columns)).map((row) => row.id));
    for (const p of batch) p.resolve(updated.has(p.values[9] as string) ? 1 : 0);
  }
}
