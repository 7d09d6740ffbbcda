import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';

const run = promisify(execFile);

/** PostgreSQL's server programs (Debian: /usr/lib/postgresql/<version>/bin); `.ci/run` exports their folder. */
export function postgresBin(): string | null {
  const given = process.env.WEBHOOKS_TEST_PG_BIN;
  if (given && existsSync(join(given, 'pg_ctl'))) return given;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) if (existsSync(join(root, version, 'bin', 'pg_ctl'))) return join(root, version, 'bin');
  return null;
}

/** A PostgreSQL cluster of the test's own: it may restart it or cut its connections without disturbing others. */
export interface PostgresCluster {
  /** A database on it (`webhooks`) the test may use. */
  url: string;
  /** `pg_ctl restart -m fast`: every connection is cut, the server is back when this resolves. */
  restart(): Promise<void>;
  /** Ends every connection to the database but this call's own (`pg_terminate_backend`). */
  terminateBackends(): Promise<number>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Runs a server program as the `postgres` user when the tests run as root (PostgreSQL refuses to run as root). */
function asPostgres(bin: string, program: string, args: string[]): Promise<unknown> {
  const path = join(bin, program);
  if (process.getuid?.() !== 0) return run(path, args);
  const quoted = [path, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return run('su', ['postgres', '-s', '/bin/sh', '-c', quoted]);
}

export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL server programs not found (set WEBHOOKS_TEST_PG_BIN)');
  const dir = mkdtempSync(join(tmpdir(), 'nest-webhooks-pg-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const ctl = (args: string[]) => asPostgres(bin, 'pg_ctl', ['-D', data, '-w', '-t', '60', '-l', join(dir, 'server.log'), ...args]);
  await asPostgres(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'postgres']);
  await ctl(['-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`, 'start']);
  const stop = async () => {
    await ctl(['-m', 'immediate', 'stop']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await asPostgres(bin, 'createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'webhooks']);
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `postgres://postgres@127.0.0.1:${port}/webhooks`;
  return {
    url,
    // The options of the last start are reused (postmaster.opts).
    restart: async () => void (await ctl(['-m', 'fast', 'restart'])),
    async terminateBackends() {
      const admin = new DataSource({ type: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/postgres` });
      await admin.initialize();
      try {
        const rows = (await admin.query(
          "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE datname = 'webhooks' AND pid <> pg_backend_pid()",
        )) as Array<{ ended: boolean }>;
        return rows.filter((r) => r.ended).length;
      } finally {
        await admin.destroy();
      }
    },
    stop,
  };
}
