import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vitest/config';

const COMPONENT_TESTS = 'web-client/test/**/*.component.test.ts';

export default defineConfig({
  resolve: {
    alias: {
      '@cityconf/sfu': fileURLToPath(new URL('./sfu/src/index.ts', import.meta.url)),
      '@cityconf/recordings': fileURLToPath(new URL('./recordings/src/index.ts', import.meta.url)),
      '@cityconf/cascade': fileURLToPath(new URL('./cascade/src/index.ts', import.meta.url)),
    },
  },
  test: {
    // Integration and browser tests share real mediasoup workers and Chromium on 2 cores.
    fileParallelism: false,
    // Test servers take free RTMP and SIP ports (the defaults 1935 and 5060 would clash between servers).
    env: { RTMP_PORT: '0', SIP_PORT: '0' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: ['**/{test,e2e}/**/*.test.ts'],
          exclude: ['**/node_modules/**', '**/dist/**', COMPONENT_TESTS],
        },
      },
      {
        // Svelte components rendered into happy-dom, compiled as the web client's Vite build does.
        extends: true,
        plugins: [svelte({ configFile: fileURLToPath(new URL('./web-client/svelte.config.js', import.meta.url)) }), svelteTesting()],
        test: {
          name: 'components',
          environment: 'happy-dom',
          include: [COMPONENT_TESTS],
        },
      },
    ],
  },
});
