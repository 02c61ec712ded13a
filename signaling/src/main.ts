import { startServer } from './server.js';

const server = await startServer();
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.logger.info({ signal }, 'stopping');
    void server.close().then(() => process.exit(0));
  });
}
