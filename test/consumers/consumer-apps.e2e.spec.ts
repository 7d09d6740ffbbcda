import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestReceiver } from '../support/receiver.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/consumers');
const LIBRARY = join(ROOT, 'libs/webhooks');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
const rootPackage = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

/** `name@version` at the version this repository is tested with (so npm finds it in its cache). */
const pinned = (name: string) => `${name}@${rootPackage.dependencies[name] ?? rootPackage.devDependencies[name]}`;

async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(command, args, { cwd, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout ?? ''}\n${stderr ?? ''}`);
  }
}

/** The first TypeScript block of the README's "Quick start", as printed. */
function readmeQuickStart(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  return section.match(/```ts\n([\s\S]*?)```\n/)![1]!;
}

interface Consumer {
  name: string;
  type: 'module' | 'commonjs';
  app: () => string;
  dependencies: string[];
  sqlite?: boolean;
}

const NEST = ['@nestjs/common', '@nestjs/core', '@nestjs/event-emitter', 'reflect-metadata', 'rxjs', '@types/node'].map(pinned);

const CONSUMERS: Consumer[] = [
  { name: 'ESM Nest 12 app running the README quick start', type: 'module', app: readmeQuickStart, dependencies: NEST },
  { name: 'CommonJS Nest 12 app running the README quick start', type: 'commonjs', app: readmeQuickStart, dependencies: NEST },
  {
    name: 'ESM Nest 12 app on TypeORM + SQLite, publishing in a transaction',
    type: 'module',
    app: () => readFileSync(join(FIXTURES, 'typeorm/app.ts'), 'utf8'),
    dependencies: [...NEST, ...['@nestjs/typeorm', 'typeorm', 'better-sqlite3'].map(pinned)],
    sqlite: true,
  },
];

/** Installs and builds each consumer in a fresh folder, the way an application team would, from the packed tarball. */
describe('the packed library in fresh applications', () => {
  let workspace: string;
  let tarball: string;
  let files: string[];

  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'nest-webhooks-consumers-'));
    const packed = JSON.parse(await run('npm', ['pack', '--json', '--pack-destination', workspace], LIBRARY)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = join(workspace, packed[0]!.filename);
    files = packed[0]!.files.map((file) => file.path);
  }, 180_000);

  afterAll(() => {
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('the tarball holds the JS, the types, README, LICENSE, and the sources its source maps name', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/typeorm.js', 'dist/extensions.d.ts']));
    const maps = files.filter((path) => path.endsWith('.js.map'));
    expect(maps.length).toBeGreaterThan(50);
    const extracted = join(workspace, 'extracted');
    mkdirSync(extracted);
    return run('tar', ['-xzf', tarball, '-C', extracted], workspace).then(() => {
      for (const map of maps) {
        const { sources } = JSON.parse(readFileSync(join(extracted, 'package', map), 'utf8')) as { sources: string[] };
        for (const source of sources) expect(files, `${map} names ${source}`).toContain(join(map, '..', source));
      }
    });
  }, 60_000);

  it.each(CONSUMERS)('$name: installs, compiles, starts and delivers a signed webhook', async (consumer) => {
    const dir = join(workspace, consumer.name.replace(/\W+/g, '-'));
    mkdirSync(join(dir, 'src'), { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: consumer.type }));
    await run('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...consumer.dependencies], dir);
    if (consumer.sqlite) {
      // The native addon this repository's own install built, for the same better-sqlite3 version and Node.
      const release = join('node_modules/better-sqlite3/build/Release');
      mkdirSync(join(dir, release), { recursive: true });
      copyFileSync(join(ROOT, release, 'better_sqlite3.node'), join(dir, release, 'better_sqlite3.node'));
    } else {
      // The main entry loads neither TypeORM nor axios: an app on the memory store installs neither. Nor does it
      // need @opentelemetry/api (tracing is off without it) or the testing kit's packages.
      for (const optional of ['typeorm', 'axios', '@opentelemetry/api', '@nestjs/testing', 'standardwebhooks']) {
        expect(existsSync(join(dir, 'node_modules', optional)), optional).toBe(false);
      }
    }
    writeFileSync(join(dir, 'src/app.ts'), consumer.app());
    copyFileSync(join(FIXTURES, 'main.ts'), join(dir, 'src/main.ts'));
    copyFileSync(join(FIXTURES, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    await run(process.execPath, [TSC, '-p', 'tsconfig.json'], dir);
    const compiled = readFileSync(join(dir, 'dist/main.js'), 'utf8');
    expect(compiled).toContain(consumer.type === 'commonjs' ? 'require("nest-webhooks")' : "from 'nest-webhooks'");

    const receiver = await TestReceiver.start({ protocol: 'http' });
    try {
      const output = await run(process.execPath, ['dist/main.js'], dir, {
        RECEIVER_URL: `${receiver.url}/hooks`,
        DATABASE_FILE: join(dir, 'app.sqlite'),
        WEBHOOKS_SECRET_KEY: Buffer.alloc(32, 9).toString('base64'),
        NODE_ENV: 'development',
      });
      const { secret } = JSON.parse(output.trim().split('\n').at(-1)!) as { secret: string };
      expect(receiver.requests).toHaveLength(1);
      const event = new Webhook(secret).verify(receiver.requests[0]!.body, receiver.requests[0]!.headers);
      expect(event).toMatchObject({ type: 'order.created', data: { id: 'o-1', total: 42 } });
    } finally {
      await receiver.close();
    }
    if (consumer.sqlite) expect(readdirSync(dir)).toContain('app.sqlite');
  }, 180_000);
});
