import { SIGNAL_CHANNEL } from './registry-sql.js';

/** `webhook_attempt`'s columns in insert order, with their PostgreSQL types (for `unnest` of one array per column). */
const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ['id', 'varchar'],
  ['webhook_id', 'varchar'],
  ['subscription_id', 'varchar'],
  ['event_name', 'varchar'],
  ['status', 'varchar'],
  ['message', 'text'],
  ['payload', 'text'],
  ['dialect', 'varchar'],
  ['request', 'text'],
  ['response', 'text'],
  ['tries', 'int'],
  ['history', 'text'],
  ['next_attempt_at', 'bigint'],
  ['lease_owner', 'varchar'],
  ['lease_expires_at', 'bigint'],
  ['idempotency_key', 'varchar'],
  ['internal', 'text'],
  ['created_at', 'bigint'],
  ['updated_at', 'bigint'],
  ['claimable_at', 'bigint'],
];

export interface PostgresOutboxStatement {
  text: string;
  /** One array per column (rows transposed), then the expected version when checked. */
  values(rows: readonly unknown[][], expectedVersion: number | undefined): unknown[];
}

const statements = new Map<string, PostgresOutboxStatement>();

/**
 * One statement that share-locks the registry version, inserts the attempts only if the version is the expected
 * one, and returns the version with the ids written, so phase 1 costs one round trip. The same text for any
 * number of rows (one array parameter per column). `notify` wakes the workers listening when the attempts are not
 * leased to this process; the notification is sent when the transaction commits.
 */
export function postgresOutboxStatement(options: { checked: boolean; keyed: boolean; notify: boolean }): PostgresOutboxStatement {
  const key = `${+options.checked}${+options.keyed}${+options.notify}`;
  let statement = statements.get(key);
  if (statement) return statement;
  const arrays = COLUMNS.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  const versionParam = `$${COLUMNS.length + 1}`;
  const text = [
    `WITH registry AS (SELECT version FROM webhook_registry WHERE id = 1${options.checked ? ' FOR SHARE' : ''}),`,
    `written AS (INSERT INTO webhook_attempt (${COLUMNS.map(([name]) => name).join(', ')})`,
    `  SELECT * FROM unnest(${arrays})`,
    options.checked ? `  WHERE (SELECT version FROM registry) = ${versionParam}` : '',
    options.keyed ? '  ON CONFLICT DO NOTHING' : '',
    '  RETURNING id)',
    `SELECT (SELECT version FROM registry) AS version, (SELECT coalesce(json_agg(id), '[]'::json) FROM written) AS ids` +
      (options.notify ? `, (SELECT count(pg_notify('${SIGNAL_CHANNEL}', 'attempts')) FROM (SELECT 1 FROM written LIMIT 1) w) AS notified` : ''),
  ]
    .filter(Boolean)
    .join('\n');
  statement = {
    text,
    values(rows, expectedVersion) {
      const columns = COLUMNS.map((_, c) => rows.map((row) => row[c]));
      return options.checked ? [...columns, expectedVersion] : columns;
    },
  };
  statements.set(key, statement);
  return statement;
}
