import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The library's entries, from source: `nest-webhooks` and `nest-webhooks/<entry>`.
    alias: [
      { find: /^nest-webhooks$/, replacement: fileURLToPath(new URL('./libs/webhooks/src/index.ts', import.meta.url)) },
      { find: /^nest-webhooks\/(\w+)$/, replacement: `${fileURLToPath(new URL('./libs/webhooks/src/', import.meta.url))}$1.ts` },
    ],
  },
  oxc: {
    decorator: { legacy: true, emitDecoratorMetadata: true },
  },
  test: {
    include: ['test/**/*.spec.ts', 'libs/**/*.spec.ts', 'apps/**/*.spec.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
