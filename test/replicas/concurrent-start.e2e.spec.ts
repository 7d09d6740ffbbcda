import { afterEach, describe, expect, it } from 'vitest';
import { WEBHOOK_MIGRATIONS } from 'nest-webhooks/typeorm';
import { createTestDatabase, DATABASES, type TestDatabase } from '../support/databases.js';
import { type ExampleProcess, runExample, waitForOutput } from '../support/example-process.js';

const API_KEYS = 'alice:alice-key-0123456789abcdef';
const SECRET_KEY = Buffer.alloc(32, 5).toString('base64');

/** Replicas of a deployment start together: on an empty database, each runs the migrations under a lock. */
describe.each(DATABASES)('several instances starting at once on an empty %s database', (kind) => {
  let database: TestDatabase;
  const processes: ExampleProcess[] = [];

  afterEach(async () => {
    for (const started of processes.splice(0)) {
      started.kill('SIGKILL');
      await started.exit;
    }
    await database.drop();
  });

  it('two API instances and a worker all come up without an error; every migration ran once', async () => {
    database = await createTestDatabase(kind);
    const env = { PORT: '0', DATABASE_URL: database.url, WEBHOOKS_API_KEYS: API_KEYS, WEBHOOKS_SECRET_KEY: SECRET_KEY };
    // Spawned in the same turn: they reach the database within milliseconds of each other.
    processes.push(runExample(env), runExample(env), runExample({ ...env, WEBHOOKS_ROLE: 'worker' }));
    const [first, second, worker] = processes as [ExampleProcess, ExampleProcess, ExampleProcess];
    const [, firstBase] = await waitForOutput(first, /listening on (http:\/\/localhost:\d+)/, 30_000);
    const [, secondBase] = await waitForOutput(second, /listening on (http:\/\/localhost:\d+)/, 30_000);
    await waitForOutput(worker, /example worker delivering/, 30_000);

    for (const started of processes) {
      expect(started.output()).not.toMatch(/error|duplicate key|already exists|retry/i);
    }
    for (const base of [firstBase, secondBase]) expect((await fetch(`${base}/health`)).status).toBe(200);
    const applied = (await database.query('SELECT name FROM migrations ORDER BY id')).map((row) => row.name as string);
    const expected = [...WEBHOOK_MIGRATIONS.map((m) => m.name), 'CreateExampleOrders1764300100000'];
    const timestamp = (name: string) => Number(name.match(/\d+$/)![0]);
    expect(applied).toEqual(expected.sort((x, y) => timestamp(x) - timestamp(y)));
  }, 60_000);
});
