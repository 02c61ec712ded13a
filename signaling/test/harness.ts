import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, type MintOptions } from '../src/auth/tokens.js';
import { startServer, type RunningServer } from '../src/server.js';

/** A real server on an ephemeral port with one mediasoup worker and a throwaway DATA_DIR. */
export function startTestServer(numWorkers = 1): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    dataDir: mkdtempSync(join(tmpdir(), 'cityconf-test-')),
    sfu: { numWorkers },
  });
}

export function tokenFor(server: RunningServer, options: Partial<MintOptions> & { room: string; identity: string }): Promise<string> {
  return mintToken(server.config.auth, { name: options.identity, ...options });
}
