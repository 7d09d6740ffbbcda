import type { Database, Statement } from 'better-sqlite3';
import type { AttemptCounts } from '../webhook-store.js';

/**
 * One write of the SQLite store's hot path, as plain data: the group commit (`SqliteWriteBatch`) queues these
 * and runs a turn's worth in one transaction.
 */
export type AttemptWrite =
  /**
   * New attempts; each row holds `insertAttempt`'s values in column order. Written only while the registry is at
   * `expectedVersion` (null: not checked); a keyed row whose (subscription, key) exists is skipped.
   */
  | { kind: 'outbox'; rows: unknown[][]; keyed: boolean[]; expectedVersion: number | null }
  /** A try's outcome: `recordTry`'s values in placeholder order. Result: rows changed (0 or 1). */
  | { kind: 'recordTry'; values: unknown[] }
  /** Deletes the `excess` oldest resolved attempts. Result: rows deleted. */
  | { kind: 'pruneOldestResolved'; subscriptionId: string; excess: number }
  /** The history rule in one step. Result: the counts after trimming. */
  | { kind: 'trimHistory'; subscriptionId: string; limit: number }
  /** Leases due attempts. Result: the leased rows (`RETURNING *`). */
  | { kind: 'claimDue'; worker: string; until: number; now: number; limit: number; excluded: string }
  | { kind: 'renewClaims'; ids: readonly string[]; worker: string; until: number }
  | { kind: 'releaseClaims'; ids: readonly string[]; worker: string }
  /** Takes or renews endpoint leases not held live by another worker. Result: the leases afterwards. */
  | { kind: 'acquireEndpoints'; endpoints: readonly string[]; worker: string; now: number; until: number }
  /** Drops this worker's endpoint leases (all of them when `endpoints` is null). */
  | { kind: 'releaseEndpoints'; endpoints: readonly string[] | null; worker: string };

/** The rows of an outbox write: the registry version it saw, and per row whether it was written (null: stale). */
export interface OutboxWriteRows {
  version: number;
  inserted: boolean[] | null;
}

export interface EndpointLeaseRow {
  endpoint: string;
  worker_id: string;
  expires_at: number;
}

/** What each kind of write returns. */
export interface AttemptWriteResults {
  outbox: OutboxWriteRows;
  recordTry: number;
  pruneOldestResolved: number;
  trimHistory: AttemptCounts;
  claimDue: Array<Record<string, unknown>>;
  renewClaims: void;
  releaseClaims: void;
  acquireEndpoints: EndpointLeaseRow[];
  releaseEndpoints: void;
}

export type AttemptWriteResult<W extends AttemptWrite> = AttemptWriteResults[W['kind']];

/** The prepared statements of the hot path on one connection, and how each kind of write uses them. */
export class SqliteAttemptStatements {
  readonly registryVersion: Statement;
  private readonly insertAttempt: Statement;
  private readonly insertAttemptIfNew: Statement;
  private readonly acquireEndpoint: Statement;
  private readonly endpointLease: Statement;
  private readonly releaseEndpoint: Statement;
  private readonly releaseAllEndpoints: Statement;
  private readonly recordTry: Statement;
  private readonly pruneOldestResolved: Statement;
  private readonly countPending: Statement;
  private readonly trimResolved: Statement;
  private readonly countResolved: Statement;
  private readonly claimDue: Statement;
  private readonly renewClaim: Statement;
  private readonly releaseClaim: Statement;

  constructor(db: Database) {
    this.registryVersion = db.prepare('SELECT version FROM webhook_registry WHERE id = 1').pluck();
    const insert = `INSERT INTO webhook_attempt (id, webhook_id, subscription_id, event_name, status, message, payload, dialect, request, response, tries, history,
         next_attempt_at, lease_owner, lease_expires_at, idempotency_key, internal, created_at, updated_at, claimable_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
    this.insertAttempt = db.prepare(insert);
    // Keyed rows: a (subscription, idempotency key) already stored makes the row a no-op (the partial unique index).
    this.insertAttemptIfNew = db.prepare(`${insert} ON CONFLICT DO NOTHING`);
    this.acquireEndpoint = db.prepare(
      `INSERT INTO webhook_endpoint_lease (endpoint, worker_id, expires_at) VALUES (@endpoint, @worker, @until)
       ON CONFLICT (endpoint) DO UPDATE SET worker_id = excluded.worker_id, expires_at = excluded.expires_at
       WHERE webhook_endpoint_lease.worker_id = excluded.worker_id OR webhook_endpoint_lease.expires_at <= @now`,
    );
    this.endpointLease = db.prepare('SELECT endpoint, worker_id, expires_at FROM webhook_endpoint_lease WHERE endpoint = ?');
    this.releaseEndpoint = db.prepare('DELETE FROM webhook_endpoint_lease WHERE endpoint = ? AND worker_id = ?');
    this.releaseAllEndpoints = db.prepare('DELETE FROM webhook_endpoint_lease WHERE worker_id = ?');
    // Only a still-pending attempt at the same try count is updated: an attempt resolves exactly once.
    this.recordTry = db.prepare(
      `UPDATE webhook_attempt SET status = ?, message = ?, request = ?, response = ?, tries = ?, history = ?, next_attempt_at = ?, claimable_at = ?,
         lease_owner = NULL, lease_expires_at = NULL, internal = COALESCE(?, internal), updated_at = ?
       WHERE id = ? AND status = 'pending' AND tries = ?`,
    );
    this.pruneOldestResolved = db.prepare(
      `DELETE FROM webhook_attempt WHERE id IN (
         SELECT id FROM webhook_attempt WHERE subscription_id = ? AND status <> 'pending' ORDER BY id LIMIT ?)`,
    );
    // `+status` keeps the planner on the subscription's index: on `status = 'pending'` alone it would take the due
    // index and walk the pending attempts of every subscription.
    this.countPending = db.prepare("SELECT COUNT(*) AS n FROM (SELECT 1 FROM webhook_attempt WHERE subscription_id = ? AND +status = 'pending' LIMIT ?)");
    // `status <> 'pending'`, literally: the predicate of idx_webhook_attempt_resolved, so SQLite uses that index.
    this.trimResolved = db.prepare(
      `DELETE FROM webhook_attempt WHERE subscription_id = ? AND status <> 'pending' AND id NOT IN (
         SELECT id FROM webhook_attempt WHERE subscription_id = ? AND status <> 'pending' ORDER BY id DESC LIMIT ?)`,
    );
    this.countResolved = db.prepare("SELECT status, COUNT(*) AS n FROM webhook_attempt WHERE subscription_id = ? AND status <> 'pending' GROUP BY status");
    // One statement takes the oldest claimable attempts and returns them, with no read afterwards. Oldest: due first,
    // then created first (ids sort by creation), in the order of the due index, so no later attempt overtakes an
    // earlier one. Held attempts are claimable when their lease runs out, so the claim never walks past them.
    this.claimDue = db.prepare(
      `UPDATE webhook_attempt SET lease_owner = @worker, lease_expires_at = @until, claimable_at = @until
       WHERE id IN (
         SELECT id FROM webhook_attempt
         WHERE status = 'pending' AND claimable_at <= @now AND (lease_owner IS NULL OR lease_expires_at <= @now)
           AND subscription_id NOT IN (SELECT value FROM json_each(@excluded))
         ORDER BY claimable_at, id LIMIT @limit)
       RETURNING *`,
    );
    // Per-id statements: with `id IN (…) AND lease_owner AND status` SQLite prefers the status index and scans
    // every pending row, which is slow with a large backlog.
    this.renewClaim = db.prepare(
      "UPDATE webhook_attempt SET lease_expires_at = @until, claimable_at = @until WHERE id = @id AND lease_owner = @worker AND status = 'pending'",
    );
    this.releaseClaim = db.prepare(
      "UPDATE webhook_attempt SET lease_owner = NULL, lease_expires_at = NULL, claimable_at = next_attempt_at WHERE id = @id AND lease_owner = @worker AND status = 'pending'",
    );
  }

  /** Runs one write (inside the caller's transaction) and returns its result. */
  run(write: AttemptWrite): unknown {
    switch (write.kind) {
      case 'outbox':
        return this.outbox(write.rows, write.keyed, write.expectedVersion);
      case 'recordTry': {
        // The next try's time is also when the attempt is claimable again (better-sqlite3 binds no `?NNN` from an array).
        const v = write.values;
        return this.recordTry.run(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[6], v[7], v[8], v[9], v[10]).changes;
      }
      case 'pruneOldestResolved':
        return this.pruneOldestResolved.run(write.subscriptionId, write.excess).changes;
      case 'trimHistory':
        return this.trimHistory(write.subscriptionId, write.limit);
      case 'claimDue':
        return this.claimDue.all({ worker: write.worker, until: write.until, now: write.now, limit: write.limit, excluded: write.excluded });
      case 'renewClaims':
        for (const id of write.ids) this.renewClaim.run({ id, worker: write.worker, until: write.until });
        return undefined;
      case 'releaseClaims':
        for (const id of write.ids) this.releaseClaim.run({ id, worker: write.worker });
        return undefined;
      case 'acquireEndpoints':
        return write.endpoints.map((endpoint) => {
          this.acquireEndpoint.run({ endpoint, worker: write.worker, now: write.now, until: write.until });
          return this.endpointLease.get(endpoint) as EndpointLeaseRow;
        });
      case 'releaseEndpoints':
        if (write.endpoints === null) this.releaseAllEndpoints.run(write.worker);
        else for (const endpoint of write.endpoints) this.releaseEndpoint.run(endpoint, write.worker);
        return undefined;
    }
  }

  /** Inside the batch's write transaction, so the version read holds until the rows are committed. */
  private outbox(rows: unknown[][], keyed: boolean[], expectedVersion: number | null): OutboxWriteRows {
    const version = Number(this.registryVersion.get() ?? 0);
    if (expectedVersion !== null && version !== expectedVersion) return { version, inserted: null };
    const inserted = rows.map((values, i) => (keyed[i] ? this.insertAttemptIfNew.run(values).changes > 0 : (this.insertAttempt.run(values), true)));
    return { version, inserted };
  }

  /**
   * Counts the pending attempts up to `limit` (an index range) to know how many resolved ones may stay, deletes
   * the older resolved ones in one statement, and counts what is left of the resolved (at most `limit`).
   * Neither the whole history nor a large backlog of pending attempts is ever counted.
   */
  private trimHistory(subscriptionId: string, limit: number): AttemptCounts {
    const pending = (this.countPending.get(subscriptionId, limit) as { n: number }).n;
    this.trimResolved.run(subscriptionId, subscriptionId, Math.max(0, limit - pending));
    const resolved = this.countResolved.all(subscriptionId) as Array<{ status: 'failed' | 'successful'; n: number }>;
    const counts: AttemptCounts = { total: pending, pending, failed: 0, successful: 0 };
    for (const row of resolved) {
      counts[row.status] = row.n;
      counts.total += row.n;
    }
    return counts;
  }
}
