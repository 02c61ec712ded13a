// The whole governance path on one real server: import the unit directory and schedule a meeting
// through the admin API, join with the tokens it issues, run it, end it through the API, restart
// the server on the same DATA_DIR and find every record again. Webhooks go to a real receiver that
// verifies them with livekit-server-sdk.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookReceiver } from 'livekit-server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import type { JoinReply } from '../src/protocol.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { MeetingRecord } from '../src/store/types.js';
import { connect, nextEvent, ok, request, type TestClient } from './client.js';
import { sampleDirectory, sampleDirectoryCsv } from './unitDirectory.js';

const dataDir = mkdtempSync(join(tmpdir(), 'cityconf-governance-'));
let server: RunningServer;
let receiver: Server;
const received: { event: string; room?: string; identity?: string }[] = [];
const sockets: TestClient[] = [];

async function start(): Promise<RunningServer> {
  const { port } = receiver.address() as AddressInfo;
  return startServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    dataDir,
    webhookUrls: [`http://127.0.0.1:${port}/hook`],
    sfu: { numWorkers: 1 },
  });
}

beforeAll(async () => {
  const verifier = new WebhookReceiver('devkey', 'cityconf-development-secret-change-me');
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void verifier
        .receive(Buffer.concat(chunks).toString('utf8'), req.headers.authorization)
        .then((event) => {
          received.push({ event: event.event, room: event.room?.name, identity: event.participant?.identity });
          res.writeHead(200).end();
        })
        .catch(() => res.writeHead(401).end());
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  server = await start();
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
  receiver.close();
});

async function api<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

async function joinAs(meetingId: string, unitId: string): Promise<[TestClient, JoinReply]> {
  const { token } = await api<{ token: string }>('POST', `/api/meetings/${meetingId}/tokens`, { unitId });
  const socket = await connect(server.url);
  sockets.push(socket);
  return [socket, await ok(socket, 'join', { meetingId, token })];
}

const waitFor = async (check: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
};

describe('a scheduled meeting from directory import to restart', () => {
  const units = sampleDirectory();
  const county = units.find((unit) => unit.level === 'county')!;
  const towns = units.filter((unit) => unit.parentId === county.id && unit.level === 'town');
  let meeting: MeetingRecord;

  it('imports the directory and schedules a meeting inviting a county subtree', async () => {
    const imported = await api<{ imported: number }>('POST', '/api/units/import', sampleDirectoryCsv(), 'text/csv');
    expect(imported.imported).toBe(units.length);
    meeting = await api<MeetingRecord>('POST', '/api/meetings', {
      id: 'county-plenary',
      title: `${county.name}防汛工作部署会`,
      startsAt: new Date(Date.now() + 60_000).toISOString(),
      chairUnitId: county.id,
      mainVenueUnitId: county.id,
      invite: { subtrees: [county.id] },
    });
    expect(meeting).toMatchObject({ state: 'scheduled', chairUnitId: county.id });
    expect(String(meeting.number)).toMatch(/^[1-9]\d{7}$/);
    expect(meeting.invitedUnitIds).toContain(towns[0]!.id);
  });

  it('joins with issued tokens: roles, directory and roster of invited units', async () => {
    const [chair, chairJoin] = await joinAs(meeting.id, county.id);
    expect(chairJoin.permissions.role).toBe('chair');
    expect(chairJoin.meeting).toMatchObject({ id: meeting.id, number: meeting.number, state: 'live' });
    const directory = chairJoin.directory!;
    expect(directory.invitedUnitIds).toEqual(meeting.invitedUnitIds);
    // Ancestors come first: the city, then the county, then its units.
    expect(directory.units[0]).toMatchObject({ id: 'city', level: 'city', parentId: null });
    expect(directory.units.map((unit) => unit.id)).toEqual(expect.arrayContaining([county.id, ...towns.map((town) => town.id)]));
    const parents = new Set<string | null>([null]);
    for (const unit of directory.units) {
      expect(parents.has(unit.parentId)).toBe(true);
      parents.add(unit.id);
    }

    const [town, townJoin] = await joinAs(meeting.id, towns[0]!.id);
    expect(townJoin.permissions.role).toBe('participant');
    expect(townJoin.self.attributes.unit).toBe(county.name);
    await ok(town, 'sendChat', { text: `${towns[0]!.name}已就位` });
    await ok(chair, 'rollCall', { unitId: towns[0]!.id });
    await ok(chair, 'markRollCall', { unitId: towns[0]!.id, result: 'present' });
    expect((await api<MeetingRecord>('GET', `/api/meetings/${meeting.id}`)).state).toBe('live');

    // A unit that is not invited gets no token.
    const stranger = units.find((unit) => unit.level === 'town' && unit.parentId !== county.id)!;
    await expect(api('POST', `/api/meetings/${meeting.id}/tokens`, { unitId: stranger.id })).rejects.toThrow(/40[03]/);
  });

  it('the attendance CSV lists every invited unit, with the roll call', async () => {
    const response = await fetch(`${server.url}/api/meetings/${meeting.id}/attendance.csv`, {
      headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}` },
    });
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]); // BOM: Excel reads it as UTF-8
    const lines = bytes.subarray(3).toString('utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + meeting.invitedUnitIds.length);
    const townLine = lines.find((line) => line.startsWith(`${towns[0]!.id},`))!;
    expect(townLine).toContain('出席');
    expect(townLine).toContain('已到');
    expect(lines.find((line) => line.startsWith(`${towns[1]!.id},`))).toContain('缺席');
  });

  it('ending it through the API ends every session', async () => {
    const [socket] = [sockets.at(-1)!];
    const ended = nextEvent(socket, 'sessionEnded');
    await api('POST', `/api/meetings/${meeting.id}/end`);
    expect((await ended).reason).toBe('MEETING_ENDED');
    const again = await connect(server.url);
    sockets.push(again);
    const { token } = await api<{ token: string }>('POST', '/api/meetings/county-plenary/tokens', { unitId: county.id }).catch(() => ({ token: '' }));
    if (token) {
      const reply = await request(again, 'join', { meetingId: meeting.id, token });
      expect(reply.ok ? 'OK' : reply.error.code).toBe('MEETING_ENDED');
    }
  });

  it('sent LiveKit webhooks that livekit-server-sdk verifies', async () => {
    await waitFor(() => received.some((event) => event.event === 'room_finished'), 'room_finished');
    const events = received.filter((event) => event.room === meeting.id).map((event) => event.event);
    expect(events[0]).toBe('room_started');
    expect(events).toEqual(expect.arrayContaining(['participant_joined', 'participant_left', 'room_finished']));
    expect(received.filter((event) => event.event === 'participant_joined').map((event) => event.identity)).toEqual([county.id, towns[0]!.id]);
    const deliveries = await api<{ items: { status: string }[] }>('GET', '/api/webhooks/deliveries');
    expect(deliveries.items.length).toBe(received.length);
    expect(deliveries.items.every((delivery) => delivery.status === 'delivered')).toBe(true);
  });

  it('keeps units, meetings, attendance, roll calls and chat across a restart', async () => {
    await server.close();
    server = await start();
    expect((await api<{ items: unknown[] }>('GET', '/api/units')).items).toHaveLength(units.length);
    expect(await api<MeetingRecord>('GET', `/api/meetings/${meeting.id}`)).toMatchObject({ state: 'ended', number: meeting.number });
    expect(server.store.attendance.presences(meeting.id).every((presence) => presence.leftAt !== null)).toBe(true);
    expect(server.store.attendance.rollCalls(meeting.id)).toMatchObject([{ unitId: towns[0]!.id, result: 'present' }]);
    expect(server.store.chat.all(meeting.id).map((message) => message.text)).toEqual([`${towns[0]!.name}已就位`]);
    const report = await api<{ rows: { unitId: string; rollCall: string }[] }>('GET', `/api/meetings/${meeting.id}/attendance`);
    expect(report.rows.find((row) => row.unitId === towns[0]!.id)?.rollCall).toBe('present');
  });
});
