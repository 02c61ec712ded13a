import { mkdtempSync } from 'node:fs';
import { liveFfmpegCount } from '@cityconf/sfu';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken, type MintOptions } from '../src/auth/tokens.js';
import type { MeetingRole } from '../src/governance/roles.js';
import { startServer, type RunningServer } from '../src/server.js';
import { connect, ok, type TestClient } from './client.js';

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

/**
 * One server for a test file: started before its tests, the clients it joined disconnected after
 * each test, closed after all of them, with no ffmpeg left running.
 */
export function serverForFile(): { server: () => RunningServer; joined: (room: string, identity: string, role: MeetingRole) => Promise<TestClient> } {
  let server: RunningServer | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(() => {
    for (const client of clients.splice(0)) client.disconnect();
  });
  afterAll(async () => {
    await server?.close();
    expect(liveFfmpegCount()).toBe(0);
  });
  const running = (): RunningServer => {
    if (!server) throw new Error('the test server has not started');
    return server;
  };
  return {
    server: running,
    async joined(room, identity, role) {
      const client = await connect(running().url);
      clients.push(client);
      await ok(client, 'join', { meetingId: room, token: await tokenFor(running(), { room, identity, role, unitId: identity }) });
      return client;
    },
  };
}
