// The cascade admin API without a live SIP peer: operators configure upper-level MCUs (validated,
// the password never returned); a meeting's chair or an operator lists, dials and hangs up its SIP
// legs through the SipLegControl seam (a fake here: dial-out against sipp is in the SIP tests);
// participants are refused, and a server without SIP says so.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler, DEV_OPERATOR_API_KEY, type ApiDeps } from '../src/api/apiHandler.js';
import { mintToken } from '../src/auth/tokens.js';
import type { AuthConfig } from '../src/config.js';
import { ProtocolError } from '../src/errors.js';
import type { LiveMeetings } from '../src/governance/LiveMeetings.js';
import { createHttpHandler } from '../src/http.js';
import { createLogger } from '../src/log.js';
import type { SipDialRequest, SipLegStatus } from '../src/protocol.js';
import type { SipLegControl, SipLegControlEvents } from '../src/sip/SipLegControl.js';
import { openSqliteStore, type Store } from '../src/store/index.js';

const auth: AuthConfig = { apiKey: 'testkey', apiSecret: 'cascade-api-test-secret-0123456789abcdef' };
const noLiveMeetings: LiveMeetings = {
  participants: () => [],
  endMeeting: () => undefined,
  meetingChanged: async () => undefined,
  removeParticipant: () => false,
};

/** The SIP side as the API sees it: legs are made up on dial, busy sites and `refusals` refused as the gateway does. */
class FakeSipLegs extends EventEmitter<SipLegControlEvents> implements SipLegControl {
  readonly dialled: { meetingId: string; request: SipDialRequest; by: string }[] = [];
  /** Target or unit id → how the gateway refuses it. */
  readonly refusals = new Map<string, ProtocolError>();
  private readonly byMeeting = new Map<string, SipLegStatus[]>();

  legs(meetingId: string): SipLegStatus[] {
    return this.byMeeting.get(meetingId) ?? [];
  }

  async dial(meetingId: string, request: SipDialRequest, by: string): Promise<SipLegStatus> {
    const legs = this.legs(meetingId);
    const targetId = 'targetId' in request ? request.targetId : null;
    const unitId = 'unitId' in request ? request.unitId : null;
    const refusal = this.refusals.get(targetId ?? unitId!);
    if (refusal) throw refusal;
    if (legs.some((leg) => leg.targetId === targetId && leg.unitId === unitId)) {
      throw new ProtocolError('INVALID_STATE', 'that site already has a leg in this meeting');
    }
    this.dialled.push({ meetingId, request, by });
    const leg: SipLegStatus = {
      id: `leg-${this.dialled.length}`,
      meetingId,
      direction: 'out',
      kind: targetId ? 'mcu' : 'terminal',
      name: targetId ?? unitId!,
      uri: 'sip:9000@10.1.1.1',
      targetId,
      unitId,
      participantId: null,
      state: 'calling',
      since: Date.now(),
      connectedSince: null,
      error: null,
      attempt: 0,
      nextAttemptAt: null,
      audio: null,
      video: null,
      rxKbps: 0,
      txKbps: 0,
      lossPct: 0,
    };
    this.byMeeting.set(meetingId, [leg, ...legs]);
    return leg;
  }

  hangup(meetingId: string, legId: string): boolean {
    const legs = this.legs(meetingId);
    if (!legs.some((leg) => leg.id === legId)) return false;
    this.byMeeting.set(meetingId, legs.filter((leg) => leg.id !== legId));
    return true;
  }
}

interface Reply {
  status: number;
  text: string;
  json: any;
}

let dir: string;
let store: Store;
const servers: Server[] = [];
let withSip: string;
let withoutSip: string;
const sipLegs = new FakeSipLegs();
const op = DEV_OPERATOR_API_KEY;
let chairToken: string;
let participantToken: string;

async function serve(deps: ApiDeps): Promise<string> {
  const server = createServer(createHttpHandler({ webClientDir: dir, health: () => ({ status: 'ok' }), api: createApiHandler(deps) }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function call(base: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, text, json: text ? JSON.parse(text) : null };
}

const api = (method: string, path: string, body?: unknown, token = op) => call(withSip, method, path, token, body);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cityconf-cascade-api-'));
  store = openSqliteStore(join(dir, 'cityconf.db'));
  store.units.upsertMany([
    { id: 'city', name: '江州市', level: 'city', parentId: null, sortOrder: 0, sipUri: 'sip:room@10.2.0.1' },
    { id: 'town', name: '城关镇', level: 'town', parentId: 'city', sortOrder: 0, sipUri: null },
  ]);
  const deps: ApiDeps = { store, auth, operatorApiKey: op, live: noLiveMeetings, logger: createLogger('silent') };
  withSip = await serve({ ...deps, sipLegs });
  withoutSip = await serve(deps);
  const meeting = await api('POST', '/api/meetings', { id: 'weekly', title: '周例会', chairUnitId: 'city', invite: { units: ['town'] } });
  expect(meeting.status, meeting.text).toBe(201);
  chairToken = await mintToken(auth, { room: 'weekly', identity: 'city', name: '江州市', role: 'chair', unitId: 'city' });
  participantToken = await mintToken(auth, { room: 'weekly', identity: 'town', name: '城关镇', role: 'participant', unitId: 'town' });
});

afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cascade targets', () => {
  it('creates a target with MCU-friendly defaults and never returns the password', async () => {
    const created = await api('POST', '/api/cascade/targets', {
      id: 'province',
      name: '省视频会议平台',
      uri: 'sip:9000@10.1.1.1;transport=tcp',
      username: 'jiangzhou',
      password: 's3cret-digest',
      dtmf: '8001,123456#',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.json).toMatchObject({
      id: 'province',
      username: 'jiangzhou',
      hasPassword: true,
      displayName: null,
      bandwidthKbps: 2048,
      audioCodecs: ['G722', 'PCMA', 'PCMU', 'opus'],
      video: true,
      dtmf: '8001,123456#',
      dtmfDelayMs: 3000,
      redial: true,
      createdBy: 'operator-api-key',
    });
    expect(created.json).not.toHaveProperty('password');
    for (const reply of [await api('GET', '/api/cascade/targets'), await api('GET', '/api/cascade/targets/province')]) {
      expect(reply.status).toBe(200);
      expect(reply.text).not.toContain('s3cret-digest');
    }
    expect(store.cascadeTargets.get('province')!.password).toBe('s3cret-digest');
    expect((await api('POST', '/api/cascade/targets', { id: 'province', name: '重复', uri: 'sip:1@10.1.1.2' })).status).toBe(409);
  });

  it.each([
    [{ name: '省平台', uri: 'http://10.1.1.1' }, 'uri', 'sip:'],
    [{ name: '省平台', uri: 'tel:+861234' }, 'uri', 'sip: or sips:'],
    [{ name: '省平台', uri: 'sip:9000@' }, 'uri', ''],
    [{ name: '', uri: 'sip:9000@10.1.1.1' }, 'name', ''],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', bandwidthKbps: 32 }, 'bandwidthKbps', '64–8192'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', bandwidthKbps: 10_000 }, 'bandwidthKbps', '64–8192'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', audioCodecs: [] }, 'audioCodecs', 'at least one'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', audioCodecs: ['G729'] }, 'audioCodecs.0', ''],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', audioCodecs: ['PCMA', 'PCMA'] }, 'audioCodecs', 'once'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', dtmf: '12x#' }, 'dtmf', '0–9 * # A–D'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', dtmfDelayMs: 60_001 }, 'dtmfDelayMs', '0–60000'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', password: 'alone' }, 'username', 'password needs'],
    [{ name: '省平台', uri: 'sip:9000@10.1.1.1', transport: 'tcp' }, undefined, ''],
  ])('refuses %j (%s)', async (body, field, words) => {
    const reply = await api('POST', '/api/cascade/targets', body);
    expect(reply.status, reply.text).toBe(400);
    if (field) expect(reply.json.error.issues.map((issue: { field?: string }) => issue.field)).toContain(field);
    expect(reply.json.error.message).toContain(words);
  });

  it('changes, clears credentials and deletes a target', async () => {
    await api('POST', '/api/cascade/targets', { id: 'nation', name: '国家平台', uri: 'sips:100@gov.example.cn', username: 'u', password: 'p' });
    expect((await api('PATCH', '/api/cascade/targets/nation', { username: null })).json.error.message).toContain('password');
    const changed = await api('PATCH', '/api/cascade/targets/nation', { username: null, password: null, audioCodecs: ['PCMA'], video: false });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.json).toMatchObject({ username: null, hasPassword: false, audioCodecs: ['PCMA'], video: false, name: '国家平台' });
    expect((await api('PATCH', '/api/cascade/targets/nation', { uri: 'nation' })).status).toBe(400);
    expect((await api('PATCH', '/api/cascade/targets/nope', {})).status).toBe(404);
    expect((await api('DELETE', '/api/cascade/targets/nation')).status).toBe(204);
    expect((await api('GET', '/api/cascade/targets/nation')).status).toBe(404);
    expect((await api('DELETE', '/api/cascade/targets/nation')).status).toBe(404);
  });

  it('is for operators only', async () => {
    for (const token of [chairToken, participantToken]) {
      expect((await api('GET', '/api/cascade/targets', undefined, token)).status).toBe(401); // a join token is no operator credential
    }
    expect((await api('GET', '/api/cascade/targets', undefined, 'wrong')).status).toBe(401);
  });
});

describe("a meeting's SIP legs", () => {
  it('lets the chair dial a target and a terminal, list and hang up', async () => {
    const dialled = await api('POST', '/api/meetings/weekly/sip', { targetId: 'province' }, chairToken);
    expect(dialled.status, dialled.text).toBe(202);
    expect(dialled.json).toMatchObject({ meetingId: 'weekly', kind: 'mcu', state: 'calling', targetId: 'province' });
    expect(sipLegs.dialled.at(-1)).toEqual({ meetingId: 'weekly', request: { targetId: 'province' }, by: 'city' });
    const again = await api('POST', '/api/meetings/weekly/sip', { targetId: 'province' }, chairToken);
    expect([again.status, again.json.error.code]).toEqual([409, 'CONFLICT']);

    const terminal = await api('POST', '/api/meetings/weekly/sip', { unitId: 'city' });
    expect(terminal.status).toBe(202);
    const listed = await api('GET', '/api/meetings/weekly/sip', undefined, chairToken);
    expect(listed.json.items.map((leg: SipLegStatus) => leg.id)).toEqual([terminal.json.id, dialled.json.id]);

    expect((await api('DELETE', `/api/meetings/weekly/sip/${dialled.json.id}`, undefined, chairToken)).status).toBe(204);
    const gone = await api('DELETE', `/api/meetings/weekly/sip/${dialled.json.id}`, undefined, chairToken);
    expect([gone.status, gone.json.error.message]).toEqual([404, expect.stringContaining('GET /api/meetings/weekly/sip')]);
  });

  it("answers the gateway's refusals with their HTTP status and message", async () => {
    const refusals = [
      ['nowhere', new ProtocolError('NOT_FOUND', 'no cascade target nowhere'), 404],
      ['town', new ProtocolError('BAD_REQUEST', 'unit 城关镇 has no room terminal'), 400],
      ['stranger', new ProtocolError('FORBIDDEN', 'unit 外县 is not invited to this meeting'), 403],
      ['over', new ProtocolError('MEETING_ENDED', 'meeting has ended'), 409],
    ] as const;
    for (const [id, refusal, status] of refusals) {
      sipLegs.refusals.set(id, refusal);
      const reply = await api('POST', '/api/meetings/weekly/sip', id === 'nowhere' ? { targetId: id } : { unitId: id });
      expect([reply.status, reply.json.error.message]).toEqual([status, refusal.message]);
    }
  });

  it('refuses a dial request that names neither or both, and an unknown meeting', async () => {
    expect((await api('POST', '/api/meetings/weekly/sip', { targetId: 'province', unitId: 'city' })).status).toBe(400);
    expect((await api('POST', '/api/meetings/weekly/sip', {})).json.error.message).toContain('targetId');
    expect((await api('POST', '/api/meetings/nope/sip', { targetId: 'province' })).status).toBe(404);
  });

  it('refuses participants', async () => {
    expect((await api('GET', '/api/meetings/weekly/sip', undefined, participantToken)).status).toBe(403);
    expect((await api('POST', '/api/meetings/weekly/sip', { targetId: 'province' }, participantToken)).status).toBe(403);
    expect((await api('DELETE', '/api/meetings/weekly/sip/leg-1', undefined, participantToken)).status).toBe(403);
  });

  it('answers CONFLICT on a server without SIP', async () => {
    for (const [method, path, body] of [
      ['GET', '/api/meetings/weekly/sip', undefined],
      ['POST', '/api/meetings/weekly/sip', { targetId: 'province' }],
      ['DELETE', '/api/meetings/weekly/sip/leg-1', undefined],
    ] as const) {
      const reply = await call(withoutSip, method, path, chairToken, body);
      expect([reply.status, reply.json.error.message]).toEqual([409, expect.stringContaining('SIP_PORT=-1')]);
    }
  });

  it('documents every endpoint', async () => {
    const document = (await api('GET', '/api/openapi.json')).json;
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/api/cascade/targets', '/api/cascade/targets/{id}', '/api/meetings/{id}/sip', '/api/meetings/{id}/sip/{legId}']),
    );
    expect(JSON.stringify(document.paths['/api/cascade/targets'].post)).toContain('G722');
  });
});
