import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SRC = join(ROOT, 'libs/webhooks/src');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: IConfiguration['forbidden']; options: IConfiguration };
const MAX_LINES = 300;

/** The violations of the repository's layer rules in `libs/webhooks/src` under `baseDir`, as "rule: from → to". */
async function violations(baseDir: string): Promise<string[]> {
  const result = await cruise(['libs/webhooks/src'], {
    ...config.options,
    baseDir,
    tsConfig: { fileName: join(ROOT, 'tsconfig.json') },
    ruleSet: { forbidden: config.forbidden },
    validate: true,
  });
  return (result.output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  );
}

describe('the library layout', () => {
  it('every folder imports values only from its own layer or the layers below it', async () => {
    expect(await violations(ROOT)).toEqual([]);
  }, 60_000);

  it('the rules catch an upward import and a store engine used outside the module', async () => {
    const found = await violations(join(ROOT, 'test/fixtures/layers'));
    expect(found).toEqual(
      expect.arrayContaining([
        'layer-core: libs/webhooks/src/core/attempt.ts → libs/webhooks/src/send/sender.ts',
        'storage-engines-are-plug-ins: libs/webhooks/src/subscriptions/manager.ts → libs/webhooks/src/storage/memory/memory.store.ts',
      ]),
    );
    // The type-only import of the same file is allowed: it is reported once, for the value import.
    expect(found.filter((line) => line.startsWith('layer-core'))).toHaveLength(1);
  }, 60_000);

  it(`no source file is longer than ${MAX_LINES} lines`, () => {
    const long = sourceFiles(SRC)
      .map((file) => ({ file: relative(ROOT, file), lines: readFileSync(file, 'utf8').split('\n').length }))
      .filter(({ lines }) => lines > MAX_LINES);
    expect(long).toEqual([]);
  });
});
