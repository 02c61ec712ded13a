import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { createLogger, defineConfig, type Plugin } from 'vite';

/** Warnings of this build (Vite, Rollup, the Svelte compiler): a production build with any fails. */
const warnings: string[] = [];
const logger = createLogger();
for (const level of ['warn', 'warnOnce'] as const) {
  const log = logger[level].bind(logger);
  logger[level] = (message, options) => {
    warnings.push(message);
    log(message, options);
  };
}

/** The README promises a build without warnings: the build says which and fails. */
function failOnWarnings(): Plugin {
  return {
    name: 'cityconf:fail-on-warnings',
    apply: 'build',
    closeBundle() {
      if (warnings.length > 0) throw new Error(`the build warned ${warnings.length} time(s) (above): fix them, a release build has none`);
    },
  };
}

const signalingServer = 'http://localhost:3000';

export default defineConfig({
  customLogger: logger,
  plugins: [
    svelte({
      onwarn(warning, handler) {
        warnings.push(warning.message);
        handler?.(warning);
      },
    }),
    failOnWarnings(),
  ],
  resolve: {
    alias: {
      // The protocol is shared as TypeScript source; the signaling package is not built for the browser.
      '@cityconf/signaling/protocol': fileURLToPath(new URL('../signaling/src/protocol.ts', import.meta.url)),
    },
  },
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  server: {
    proxy: {
      '/socket.io': { target: signalingServer, ws: true },
      '/healthz': { target: signalingServer },
    },
  },
});
