// Browser benchmarks run through Vitest so that they share the e2e harness (TypeScript); each
// writes its JSON result to bench/results/<name>.json, which the npm script prints.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: { '@cityconf/sfu': fileURLToPath(new URL('../sfu/src/index.ts', import.meta.url)) },
  },
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['bench/**/*.bench.test.ts'],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
