import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('docs/testing.md', () => {
  it('shows the example module, the setup file and the example test exactly as they run here', () => {
    const docs = read('../../docs/testing.md');
    for (const file of ['./example/orders.module.ts', '../setup.ts', './example/orders.webhooks.spec.ts']) {
      // The repository lists no setup file in its Vitest config: the example imports it instead.
      const code = read(file).replace("import '../../setup.js';\n", '');
      expect(docs, file).toContain('```ts\n' + code + '```\n');
    }
  });
});
