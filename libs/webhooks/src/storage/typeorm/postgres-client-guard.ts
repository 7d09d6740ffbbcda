/** The part of a `pg` client the guard needs. */
interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * Pool options (`extra` of a TypeORM DataSource) that give every new PostgreSQL connection a handled 'error' event.
 *
 * TypeORM holds a pooled connection without an 'error' listener while it initializes a DataSource; a backend that is
 * terminated then (a failover, `pg_terminate_backend`) would be an unhandled 'error' event and end the process. The
 * pool and TypeORM's query runners still see the error and drop the connection; only the crash is prevented. An
 * `onConnect` the application already set runs as well.
 */
export function withPostgresClientGuard(extra: Record<string, unknown> | undefined): Record<string, unknown> {
  const previous = extra?.onConnect as ((client: ErrorEmitter) => unknown) | undefined;
  return {
    ...extra,
    onConnect: (client: ErrorEmitter) => {
      client.on('error', () => undefined);
      return previous?.(client);
    },
  };
}
