import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

const signalingServer = 'http://localhost:3000';

export default defineConfig({
  plugins: [svelte()],
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
