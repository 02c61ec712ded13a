import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    alias: {
      '@cityconf/sfu': fileURLToPath(new URL('./sfu/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['**/{test,e2e}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    // Integration and browser tests share real mediasoup workers and Chromium on 2 cores.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
