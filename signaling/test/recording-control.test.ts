// Who may start and stop recording, what they are told when they cannot, auto-record, and a disk
// too full to record on (the meeting goes on).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { MeetingRole } from '../src/governance/roles.js';
import { startServer, type RunningServer } from '../src/server.js';
import { connect, nextEvent, ok, request, type TestClient } from './client.js';
import { tokenFor } from './harness.js';

const servers: RunningServer[] = [];
const clients: TestClient[] = [];

function start(minFreeMb = 0): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    dataDir: mkdtempSync(join(tmpdir(), 'cityconf-test-')),
    sfu: { numWorkers: 1 },
    recordings: { minFreeMb },
  }).then((server) => {
    servers.push(server);
    return server;
  });
}

async function joined(server: RunningServer, room: string, identity: string, role: MeetingRole): Promise<TestClient> {
  const client = await connect(server.url);
  clients.push(client);
  await ok(client, 'join', { meetingId: room, token: await tokenFor(server, { room, identity, role, unitId: identity }) });
  return client;
}

async function post(server: RunningServer, path: string, bearer: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

let server: RunningServer;

beforeAll(async () => {
  server = await start();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  for (const running of servers) await running.close();
});

describe('recording control', () => {
  it('lets chairs and operators start and stop, and tells everyone', async () => {
    const chair = await joined(server, 'rc', 'chair-unit', 'chair');
    const unit = await joined(server, 'rc', 'town-unit', 'participant');
    const refused = await request(unit, 'startRecording', {});
    expect(refused.ok ? 'OK' : refused.error.code).toBe('FORBIDDEN');
    const unitToken = await tokenFor(server, { room: 'rc', identity: 'town-unit', role: 'participant', unitId: 'town-unit' });
    expect((await post(server, '/api/meetings/rc/recording/start', unitToken)).status).toBe(403);

    const told = nextEvent(unit, 'recording');
    const { recordingId } = await ok(chair, 'startRecording', {});
    expect((await told).recording).toMatchObject({ active: true, recordingId, by: 'chair-unit' });
    const again = await request(chair, 'startRecording', {});
    expect(again.ok ? 'OK' : again.error.code).toBe('INVALID_STATE');
    // A unit joining now learns it from the join reply.
    const late = await connect(server.url);
    clients.push(late);
    const reply = await ok(late, 'join', { meetingId: 'rc', token: await tokenFor(server, { room: 'rc', identity: 'late-unit', role: 'participant', unitId: 'late-unit' }) });
    expect(reply.recording).toMatchObject({ active: true, recordingId });

    const stopped = nextEvent(unit, 'recording');
    expect((await post(server, '/api/meetings/rc/recording/stop', DEV_OPERATOR_API_KEY)).status).toBe(204);
    expect((await stopped).recording.active).toBe(false);
    expect((await post(server, '/api/meetings/rc/recording/stop', DEV_OPERATOR_API_KEY)).status).toBe(404);
    expect((await post(server, '/api/meetings/nobody-here/recording/start', DEV_OPERATOR_API_KEY)).status).toBe(404);
  });

  it('starts recording by itself in a meeting set to auto-record', async () => {
    const created = await post(server, '/api/meetings', DEV_OPERATOR_API_KEY, { id: 'auto-rec', title: '防汛调度会', settings: { autoRecord: true } });
    expect(created.status).toBe(201);
    expect(created.json.settings.autoRecord).toBe(true);
    const chair = await joined(server, 'auto-rec', 'chair-unit', 'chair');
    await expect.poll(() => server.recorder.state('auto-rec').active).toBe(true);
    expect(server.recorder.state('auto-rec').by).toBe('auto-record');
    chair.disconnect();
    // The meeting ending (its last participant left) stops the recording.
    await expect.poll(() => server.recorder.state('auto-rec').active).toBe(false);
  });

  it('refuses to start on a nearly full disk, and the meeting goes on', async () => {
    const full = await start(100_000_000); // more free space asked for than any test machine has
    const chair = await joined(full, 'full', 'chair-unit', 'chair');
    const refused = await request(chair, 'startRecording', {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.error.code).toBe('INVALID_STATE');
      expect(refused.error.message).toContain('磁盘空间不足');
    }
    expect(full.recorder.state('full').active).toBe(false);
    await ok(chair, 'sendChat', { text: '会议继续' });
  });
});
