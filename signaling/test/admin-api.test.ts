import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler, DEV_OPERATOR_API_KEY } from '../src/api/apiHandler.js';
import { hashPassword } from '../src/auth/passwords.js';
import { mintToken, verifyJoinToken } from '../src/auth/tokens.js';
import type { AuthConfig } from '../src/config.js';
import { UnitTree } from '../src/directory/unitTree.js';
import type { LiveMeetings } from '../src/governance/LiveMeetings.js';
import { createHttpHandler } from '../src/http.js';
import { createLogger } from '../src/log.js';
import type { ParticipantInfo } from '../src/protocol.js';
import { openSqliteStore, type Account, type MeetingRecord, type Store, type Unit } from '../src/store/index.js';
import { sampleDirectory, sampleDirectoryCsv } from './unitDirectory.js';

const auth: AuthConfig = { apiKey: 'testkey', apiSecret: 'admin-api-test-secret-0123456789abcdef' };
const PUBLIC_URL = 'https://conf.jiangzhou.gov.cn';
const PASSWORD = 'correct horse battery';

/** The LiveMeetings seam, recording what the API asked of it. */
class FakeLiveMeetings implements LiveMeetings {
  readonly ended: string[] = [];
  readonly removed: string[] = [];
  readonly present = new Map<string, ParticipantInfo[]>();

  participants(meetingId: string): ParticipantInfo[] {
    return this.present.get(meetingId) ?? [];
  }
  endMeeting(meetingId: string): void {
    this.ended.push(meetingId);
  }
  async meetingChanged(): Promise<void> {}
  removeParticipant(meetingId: string, participantId: string): boolean {
    const list = this.present.get(meetingId) ?? [];
    if (!list.some((participant) => participant.id === participantId)) return false;
    this.removed.push(participantId);
    return true;
  }
}

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

let dir: string;
let store: Store;
let server: Server;
let base: string;
const live = new FakeLiveMeetings();
const tree = new UnitTree(sampleDirectory());
const city = tree.roots()[0]!;
const counties = tree.children(city.id).filter((unit) => unit.level === 'county');
const county = counties[0]!;
const otherCounty = counties[1]!;
const towns = tree.children(county.id).filter((unit) => unit.level === 'town');
const town = towns[0]!;
const otherTown = tree.children(otherCounty.id).find((unit) => unit.level === 'town')!;

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string | Buffer; contentType?: string } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Blob | undefined;
  if (typeof options.raw === 'string') body = options.raw;
  else if (options.raw !== undefined) body = new Blob([new Uint8Array(options.raw)]);
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${base}${path}`, { method, headers, body });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

const op = { token: DEV_OPERATOR_API_KEY };

async function addAccount(username: string, role: Account['role'], unitId: string | null, disabled = false): Promise<void> {
  store.accounts.create({
    username,
    displayName: username,
    role,
    unitId,
    passwordHash: await hashPassword(PASSWORD),
    disabled,
    createdAt: Date.now(),
  });
}

async function login(username: string): Promise<string> {
  const reply = await call('POST', '/api/auth/login', { body: { username, password: PASSWORD } });
  expect(reply.status).toBe(200);
  return reply.json.token as string;
}

async function createMeeting(body: Record<string, unknown>): Promise<MeetingRecord> {
  const reply = await call('POST', '/api/meetings', { ...op, body });
  expect(reply.status, reply.text).toBe(201);
  return reply.json as MeetingRecord;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cityconf-api-'));
  store = openSqliteStore(join(dir, 'cityconf.db'));
  store.units.replaceAll(sampleDirectory());
  await addAccount('ops', 'operator', null);
  await addAccount('county-user', 'unit', county.id);
  await addAccount('town-user', 'unit', town.id);
  await addAccount('town-terminal', 'terminal', town.id);
  await addAccount('other-town-user', 'unit', otherTown.id);
  await addAccount('retired', 'unit', town.id, true);
  const api = createApiHandler({
    store,
    auth,
    operatorApiKey: DEV_OPERATOR_API_KEY,
    live,
    logger: createLogger('silent'),
    publicUrl: () => PUBLIC_URL,
  });
  server = createServer(createHttpHandler({ webClientDir: dir, health: () => ({ status: 'ok' }), api }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('authorization', () => {
  type Credential =
    | 'none'
    | 'wrongKey'
    | 'operatorKey'
    | 'operatorSession'
    | 'unitSession'
    | 'terminalSession'
    | 'chairToken'
    | 'cochairToken'
    | 'operatorToken'
    | 'participantToken'
    | 'observerToken'
    | 'terminalToken';
  const tokens = {} as Record<Credential, string | undefined>;
  let meeting: MeetingRecord;

  beforeAll(async () => {
    meeting = await createMeeting({ id: 'authz', title: '授权矩阵', chairUnitId: city.id, invite: { units: [town.id] } });
    tokens.none = undefined;
    tokens.wrongKey = 'not-the-operator-key';
    tokens.operatorKey = DEV_OPERATOR_API_KEY;
    tokens.operatorSession = await login('ops');
    tokens.unitSession = await login('town-user');
    tokens.terminalSession = await login('town-terminal');
    tokens.chairToken = await mintToken(auth, { room: meeting.id, identity: city.id, name: city.name, role: 'chair', unitId: city.id });
    tokens.participantToken = await mintToken(auth, { room: meeting.id, identity: town.id, name: town.name, role: 'participant' });
    tokens.cochairToken = await mintToken(auth, { room: meeting.id, identity: county.id, name: county.name, role: 'cochair', unitId: county.id });
    tokens.operatorToken = await mintToken(auth, { room: meeting.id, identity: 'ops', name: '管理员', role: 'operator' });
    tokens.observerToken = await mintToken(auth, { room: meeting.id, identity: otherTown.id, name: otherTown.name, role: 'observer', unitId: otherTown.id });
    tokens.terminalToken = await mintToken(auth, { room: meeting.id, identity: `${town.id}-room`, name: town.name, role: 'terminal', unitId: town.id });
  });

  // What an operator gets is the route's own answer (404 for unknown ids, 400 for empty bodies);
  // the others get refused before the route runs.
  // Join tokens are not accepted where only operators or accounts are (401); on a meeting's chair
  // routes they are, and only chair roles (chair, cochair, operator) pass.
  const joinTokens = (chairRoles: number, others: number) => ({
    chairToken: chairRoles,
    cochairToken: chairRoles,
    operatorToken: chairRoles,
    participantToken: others,
    observerToken: others,
    terminalToken: others,
  });
  const operatorOnly = (ok: number) => ({ none: 401, wrongKey: 401, operatorKey: ok, operatorSession: ok, unitSession: 403, terminalSession: 403, ...joinTokens(401, 401) });
  const unitOnly = (ok: number) => ({ none: 401, wrongKey: 401, operatorKey: 403, operatorSession: 403, unitSession: ok, terminalSession: ok, ...joinTokens(401, 401) });
  const chairOr = (ok: number) => ({ none: 401, wrongKey: 401, operatorKey: ok, operatorSession: ok, unitSession: 403, terminalSession: 403, ...joinTokens(ok, 403) });
  const chairOrOperator = chairOr(200);
  const everyone = (status: number) => ({ none: status, wrongKey: status, operatorKey: status, operatorSession: status, unitSession: status, terminalSession: status, ...joinTokens(status, status) });

  /** method, documented path, the path called, body, status per credential */
  const matrix: [string, string, string, unknown, Record<Credential, number>][] = [
    ['GET', '/api/openapi.json', '/api/openapi.json', undefined, everyone(200)],
    ['POST', '/api/auth/login', '/api/auth/login', {}, everyone(400)],
    ['GET', '/api/units', '/api/units', undefined, operatorOnly(200)],
    ['GET', '/api/units/{id}', '/api/units/city', undefined, operatorOnly(200)],
    ['GET', '/api/units/export.csv', '/api/units/export.csv', undefined, operatorOnly(200)],
    ['GET', '/api/units/export.json', '/api/units/export.json', undefined, operatorOnly(200)],
    ['POST', '/api/units', '/api/units', {}, operatorOnly(400)],
    ['POST', '/api/units/import', '/api/units/import?mode=merge', [], operatorOnly(200)],
    ['PATCH', '/api/units/{id}', '/api/units/nope', {}, operatorOnly(404)],
    ['DELETE', '/api/units/{id}', '/api/units/nope', undefined, operatorOnly(404)],
    ['GET', '/api/accounts', '/api/accounts', undefined, operatorOnly(200)],
    ['POST', '/api/accounts', '/api/accounts', {}, operatorOnly(400)],
    ['PATCH', '/api/accounts/{username}', '/api/accounts/nope', {}, operatorOnly(404)],
    ['DELETE', '/api/accounts/{username}', '/api/accounts/nope', undefined, operatorOnly(404)],
    ['GET', '/api/meetings', '/api/meetings', undefined, operatorOnly(200)],
    ['POST', '/api/meetings', '/api/meetings', {}, operatorOnly(400)],
    ['GET', '/api/meetings/{id}', '/api/meetings/authz', undefined, operatorOnly(200)],
    ['GET', '/api/meetings/by-number/{number}', '/api/meetings/by-number/10000000', undefined, operatorOnly(404)],
    ['PATCH', '/api/meetings/{id}', '/api/meetings/nope', {}, operatorOnly(404)],
    ['POST', '/api/meetings/{id}/end', '/api/meetings/nope/end', undefined, operatorOnly(404)],
    ['DELETE', '/api/meetings/{id}', '/api/meetings/nope', undefined, operatorOnly(404)],
    ['POST', '/api/meetings/{id}/participants/{participantId}/remove', '/api/meetings/nope/participants/p1/remove', undefined, operatorOnly(404)],
    ['POST', '/api/meetings/{id}/tokens', '/api/meetings/authz/tokens', {}, operatorOnly(400)],
    ['GET', '/api/meetings/{id}/attendance', '/api/meetings/authz/attendance', undefined, chairOrOperator],
    ['GET', '/api/meetings/{id}/attendance.csv', '/api/meetings/authz/attendance.csv', undefined, chairOrOperator],
    ['GET', '/api/webhooks/deliveries', '/api/webhooks/deliveries', undefined, operatorOnly(200)],
    ['GET', '/api/me', '/api/me', undefined, unitOnly(200)],
    ['GET', '/api/me/meetings', '/api/me/meetings', undefined, unitOnly(200)],
    ['POST', '/api/me/meetings/{id}/token', '/api/me/meetings/nope/token', undefined, unitOnly(404)],
    ['GET', '/api/feeds', '/api/feeds', undefined, operatorOnly(200)],
    ['POST', '/api/feeds', '/api/feeds', {}, operatorOnly(400)],
    ['GET', '/api/feeds/{id}', '/api/feeds/nope', undefined, operatorOnly(404)],
    ['PATCH', '/api/feeds/{id}', '/api/feeds/nope', {}, operatorOnly(404)],
    ['DELETE', '/api/feeds/{id}', '/api/feeds/nope', undefined, operatorOnly(404)],
    ['POST', '/api/meetings/{id}/feeds', '/api/meetings/authz/feeds', {}, chairOr(400)],
    // This handler runs without the feed manager and the recorder (feeds.test.ts and the recording
    // tests have them): whoever may call these is told 409, the others are refused first.
    ['DELETE', '/api/meetings/{id}/feeds/{feedId}', '/api/meetings/authz/feeds/nope', undefined, chairOr(409)],
    ['GET', '/api/meetings/{id}/recordings', '/api/meetings/authz/recordings', undefined, chairOr(409)],
    ['POST', '/api/meetings/{id}/recording/start', '/api/meetings/authz/recording/start', undefined, chairOr(409)],
    ['POST', '/api/meetings/{id}/recording/stop', '/api/meetings/authz/recording/stop', undefined, chairOr(409)],
    ['GET', '/api/recordings', '/api/recordings', undefined, operatorOnly(409)],
    ['GET', '/api/recordings/{id}', '/api/recordings/nope', undefined, operatorOnly(409)],
    ['DELETE', '/api/recordings/{id}', '/api/recordings/nope', undefined, operatorOnly(409)],
    ['GET', '/api/cascade/targets', '/api/cascade/targets', undefined, operatorOnly(200)],
    ['POST', '/api/cascade/targets', '/api/cascade/targets', {}, operatorOnly(400)],
    ['GET', '/api/cascade/targets/{id}', '/api/cascade/targets/nope', undefined, operatorOnly(404)],
    ['PATCH', '/api/cascade/targets/{id}', '/api/cascade/targets/nope', {}, operatorOnly(404)],
    ['DELETE', '/api/cascade/targets/{id}', '/api/cascade/targets/nope', undefined, operatorOnly(404)],
    // Without the SIP gateway (cascade-api.test.ts has a stand-in for it).
    ['GET', '/api/meetings/{id}/sip', '/api/meetings/authz/sip', undefined, chairOr(409)],
    ['POST', '/api/meetings/{id}/sip', '/api/meetings/authz/sip', {}, chairOr(400)],
    ['DELETE', '/api/meetings/{id}/sip/{legId}', '/api/meetings/authz/sip/nope', undefined, chairOr(409)],
  ];

  it.each(matrix)('%s %s', async (method, _, path, body, expected) => {
    const actual: Record<string, number> = {};
    for (const credential of Object.keys(expected) as Credential[]) {
      actual[credential] = (await call(method, path, { token: tokens[credential], body })).status;
    }
    expect(actual).toEqual(expected);
  });

  it('lists every route in the matrix and in the OpenAPI document', async () => {
    const document = (await call('GET', '/api/openapi.json')).json;
    const documented = Object.entries(document.paths as Record<string, object>).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const tested = matrix.map(([method, template]) => `${method} ${template}`);
    expect(new Set(tested)).toEqual(new Set(documented));
  });

  it('refuses a session of an account disabled after login, and a join token for another meeting', async () => {
    await addAccount('soon-disabled', 'operator', null);
    const token = await login('soon-disabled');
    expect((await call('GET', '/api/units/city', { token })).status).toBe(200);
    store.accounts.update('soon-disabled', { disabled: true });
    const refused = await call('GET', '/api/units/city', { token });
    expect(refused.status).toBe(401);
    expect(refused.json.error.code).toBe('UNAUTHORIZED');
    const other = await createMeeting({ id: 'authz-other', title: '另一个会' });
    expect((await call('GET', `/api/meetings/${other.id}/attendance`, { token: tokens.chairToken })).status).toBe(403);
  });
});

describe('login', () => {
  it('answers an unknown user and a wrong password alike, and refuses disabled accounts', async () => {
    const unknown = await call('POST', '/api/auth/login', { body: { username: 'nobody', password: PASSWORD } });
    const wrong = await call('POST', '/api/auth/login', { body: { username: 'town-user', password: 'wrong password' } });
    expect([unknown.status, wrong.status]).toEqual([401, 401]);
    expect(unknown.json).toEqual(wrong.json);
    expect((await call('POST', '/api/auth/login', { body: { username: 'retired', password: PASSWORD } })).status).toBe(403);
  });

  it('returns the account without its hash', async () => {
    const reply = await call('POST', '/api/auth/login', { body: { username: 'town-user', password: PASSWORD } });
    expect(reply.json.account).toEqual({ username: 'town-user', displayName: 'town-user', role: 'unit', unitId: town.id });
    expect(reply.text).not.toContain('scrypt');
  });

  it('limits attempts per username and address', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 11; attempt++) {
      statuses.push((await call('POST', '/api/auth/login', { body: { username: 'county-user', password: 'guess-guess' } })).status);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
  });
});

describe('units', () => {
  const count = () => store.units.count();

  it('imports a city directory from CSV and lists it in tree order', async () => {
    const expected = sampleDirectory();
    const reply = await call('POST', '/api/units/import?mode=replace', { ...op, raw: sampleDirectoryCsv(), contentType: 'text/csv; charset=utf-8' });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toEqual({ imported: expected.length, mode: 'replace' });
    expect(expected.length).toBeGreaterThanOrEqual(600);
    const listed = (await call('GET', '/api/units', op)).json.items as Unit[];
    expect(listed).toHaveLength(expected.length);
    const order = tree.roots().flatMap((root) => tree.subtreeIds(root.id));
    expect(listed.map((unit) => unit.id)).toEqual(order);
    expect(listed.find((unit) => unit.id === town.id)).toEqual(tree.get(town.id));
  });

  const header = 'id,name,level,parent_id';
  const malformed: [string, string, { row: number; field?: string }][] = [
    [
      'a bad level on row 7',
      [header, 'x1,一,city,', 'x2,二,county,x1', 'x3,三,town,x2', 'x4,四,town,x2', 'x5,五,town,x2', 'x6,六,village,x2'].join('\n'),
      { row: 7, field: 'level' },
    ],
    ['a missing parent', [header, 'y1,一,county,no-such-unit'].join('\n'), { row: 2, field: 'parentId' }],
    ['a duplicate id', [header, 'z1,一,department,', 'z1,二,department,'].join('\n'), { row: 3, field: 'id' }],
    ['a cycle', [header, 'w1,一,department,w2', 'w2,二,department,w1'].join('\n'), { row: 2, field: 'parentId' }],
    ['a missing header column', ['id,name,level', 'v1,一,city'].join('\n'), { row: 1, field: 'parent_id' }],
  ];

  it.each(malformed)('refuses a CSV with %s, naming the row, and changes nothing', async (_, csv, issue) => {
    const before = count();
    const reply = await call('POST', '/api/units/import', { ...op, raw: csv, contentType: 'text/csv' });
    expect(reply.status).toBe(422);
    expect(reply.json.error.code).toBe('INVALID_IMPORT');
    expect(reply.json.error.issues).toContainEqual(expect.objectContaining(issue));
    expect(count()).toBe(before);
  });

  it('refuses a GBK file (what Excel in China saves as "CSV"), naming the first line that is not UTF-8, and changes nothing', async () => {
    const before = count();
    // 某某市 and 甲县 in GBK.
    const gbk = Buffer.concat([
      Buffer.from('id,name,level,parent_id\n'),
      Buffer.from([0x63, 0x2c, 0xc4, 0xb3, 0xc4, 0xb3, 0xca, 0xd0, 0x2c, 0x63, 0x69, 0x74, 0x79, 0x2c, 0x0a]), // c,某某市,city,
      Buffer.from([0x6b, 0x2c, 0xbc, 0xd7, 0xcf, 0xd8, 0x2c, 0x63, 0x6f, 0x75, 0x6e, 0x74, 0x79, 0x2c, 0x63, 0x0a]), // k,甲县,county,c
    ]);
    const reply = await call('POST', '/api/units/import', { ...op, raw: gbk, contentType: 'text/csv' });
    expect(reply.status).toBe(400);
    expect(reply.json.error.message).toContain('CSV UTF-8');
    expect(reply.json.error.issues).toEqual([{ row: 2, field: '', message: 'not UTF-8 text' }]);
    expect(count()).toBe(before);
  });

  it('imports JSON in merge mode, and replaces the directory in replace mode', async () => {
    const added = [{ id: 'hq', name: '市指挥中心', level: 'department', parentId: city.id }];
    const merged = await call('POST', '/api/units/import?mode=merge', { ...op, body: added });
    expect(merged.json).toEqual({ imported: 1, mode: 'merge' });
    expect(count()).toBe(sampleDirectory().length + 1);
    const exported = await call('GET', '/api/units/export.json', op);
    const replaced = await call('POST', '/api/units/import?mode=replace', { ...op, raw: exported.text, contentType: 'application/json' });
    expect(replaced.json).toEqual({ imported: sampleDirectory().length + 1, mode: 'replace' });
    expect((await call('POST', '/api/units/import?mode=replace', { ...op, raw: sampleDirectoryCsv(), contentType: 'text/csv' })).status).toBe(200);
    expect(count()).toBe(sampleDirectory().length);
  });

  it('exports CSV with BOM that imports back', async () => {
    const reply = await call('GET', '/api/units/export.csv', op);
    expect(reply.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(reply.headers.get('content-disposition')).toMatch(/^attachment; filename="units.csv"/);
    const bytes = Buffer.from(await (await fetch(`${base}/api/units/export.csv`, { headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}` } })).arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(reply.text).toContain('\r\n');
    const reimport = await call('POST', '/api/units/import?mode=replace', { ...op, raw: bytes, contentType: 'text/csv' });
    expect(reimport.json.imported).toBe(sampleDirectory().length);
  });

  it('adds, changes and deletes one unit', async () => {
    const created = await call('POST', '/api/units', { ...op, body: { id: 'u-new', name: '新单位', level: 'department', parentId: county.id } });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({ id: 'u-new', name: '新单位', level: 'department', parentId: county.id, sortOrder: 0, sipUri: null });
    expect((await call('POST', '/api/units', { ...op, body: { id: 'u-new', name: '又一个', level: 'department' } })).status).toBe(409);
    const badParent = await call('POST', '/api/units', { ...op, body: { id: 'u-bad', name: '坏', level: 'town', parentId: city.id } });
    expect(badParent.status).toBe(400);
    expect(badParent.json.error.issues[0].field).toBe('parentId');
    const patched = await call('PATCH', `/api/units/u-new`, { ...op, body: { name: '改名单位', sortOrder: 5 } });
    expect(patched.json).toMatchObject({ name: '改名单位', sortOrder: 5, level: 'department' });
    expect((await call('PATCH', `/api/units/u-new`, { ...op, body: { parentId: 'u-new' } })).status).toBe(400);
    const withChildren = await call('DELETE', `/api/units/${county.id}`, op);
    expect(withChildren.status).toBe(409);
    expect(withChildren.json.error.message).toMatch(/under it/);
    expect((await call('DELETE', '/api/units/u-new', op)).status).toBe(204);
    expect((await call('GET', '/api/units/u-new', op)).status).toBe(404);
  });
});

describe('accounts', () => {
  it('creates, lists, changes and deletes accounts without ever returning a hash', async () => {
    const created = await call('POST', '/api/accounts', {
      ...op,
      body: { username: 'new-user', displayName: '新用户', role: 'unit', unitId: town.id, password: 'long enough' },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ username: 'new-user', role: 'unit', unitId: town.id, disabled: false });
    const listed = await call('GET', '/api/accounts', op);
    expect(listed.json.items.map((account: Account) => account.username)).toContain('new-user');
    expect(listed.text).not.toMatch(/passwordHash|scrypt/);
    const patched = await call('PATCH', '/api/accounts/new-user', { ...op, body: { password: 'another long one', disabled: true } });
    expect(patched.json.disabled).toBe(true);
    expect(patched.text).not.toContain('scrypt');
    expect((await call('DELETE', '/api/accounts/new-user', op)).status).toBe(204);
  });

  it.each([
    ['a unit account without a unit', { username: 'a1', displayName: 'x', role: 'unit', password: 'long enough' }, 400],
    ['an unknown unit', { username: 'a2', displayName: 'x', role: 'terminal', unitId: 'nope', password: 'long enough' }, 400],
    ['a short password', { username: 'a3', displayName: 'x', role: 'operator', password: 'short' }, 400],
    ['a taken username', { username: 'ops', displayName: 'x', role: 'operator', password: 'long enough' }, 409],
    ['an unknown field', { username: 'a4', displayName: 'x', role: 'operator', password: 'long enough', admin: true }, 400],
  ])('refuses %s', async (_, body, status) => {
    expect((await call('POST', '/api/accounts', { ...op, body })).status).toBe(status);
  });
});

describe('meetings', () => {
  it('resolves a subtree invitation in directory order, with the chair and main venue', async () => {
    const meeting = await createMeeting({
      title: '全市防汛工作会议',
      startsAt: '2026-06-01T09:00:00+08:00',
      endsAt: Date.parse('2026-06-01T11:00:00+08:00'),
      chairUnitId: city.id,
      mainVenueUnitId: county.id,
      invite: { subtrees: [county.id], units: [otherTown.id, town.id] },
      observerUnitIds: [`${city.id}.d01`],
      pin: '2468',
    });
    expect(meeting.id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(meeting.invitedUnitIds).toEqual([city.id, ...tree.subtreeIds(county.id), otherTown.id]);
    expect(meeting).toMatchObject({ state: 'scheduled', adHoc: false, startsAt: Date.parse('2026-06-01T01:00:00Z'), pin: '2468' });
    expect(String(meeting.number)).toMatch(/^[1-9]\d{7}$/);
    const fetched = await call('GET', `/api/meetings/${meeting.id}`, op);
    expect(fetched.json).toEqual({ ...meeting, participants: [] });
    expect((await call('GET', `/api/meetings/by-number/${meeting.number}`, op)).json.id).toBe(meeting.id);
    const listed = await call('GET', `/api/meetings?unitId=${otherTown.id}&from=2026-06-01T00:00:00%2B08:00`, op);
    expect(listed.json.items.map((item: MeetingRecord) => item.id)).toEqual([meeting.id]);
  });

  it('opens an ad-hoc meeting without a schedule and gives every meeting its own number', async () => {
    const numbers = new Set<number>();
    for (let index = 0; index < 5; index++) {
      const meeting = await createMeeting({ title: `临时会议${index}` });
      expect(meeting).toMatchObject({ state: 'live', adHoc: true, invitedUnitIds: [] });
      numbers.add(meeting.number);
    }
    expect(numbers.size).toBe(5);
  });

  it('names the unknown units and refuses a taken id', async () => {
    const reply = await call('POST', '/api/meetings', { ...op, body: { title: 'x', chairUnitId: 'ghost-1', invite: { subtrees: ['ghost-2'] } } });
    expect(reply.status).toBe(400);
    expect(reply.json.error.message).toContain('ghost-1, ghost-2');
    await createMeeting({ id: 'taken', title: 'x' });
    expect((await call('POST', '/api/meetings', { ...op, body: { id: 'taken', title: 'y' } })).status).toBe(409);
    expect((await call('POST', '/api/meetings', { ...op, body: { id: 'bad id!', title: 'y' } })).status).toBe(400);
    expect((await call('POST', '/api/meetings', { ...op, body: { title: 'y', pin: '12' } })).status).toBe(400);
  });

  it('changes, ends and deletes meetings by the rules', async () => {
    const meeting = await createMeeting({ id: 'lifecycle', title: '例会', invite: { units: [town.id] } });
    live.present.set('lifecycle', [{ id: 'p1', identity: town.id, unitId: town.id, role: 'participant', name: town.name, isAdmin: false, handRaised: false, attributes: {}, producers: [] }]);
    const patched = await call('PATCH', '/api/meetings/lifecycle', { ...op, body: { title: '例会（改）', chairUnitId: county.id, settings: { locked: true } } });
    expect(patched.json).toMatchObject({ title: '例会（改）', chairUnitId: county.id, invitedUnitIds: [county.id, town.id] });
    expect(patched.json.settings).toEqual({ ...meeting.settings, locked: true });
    expect((await call('POST', '/api/meetings/lifecycle/participants/p1/remove', op)).status).toBe(204);
    expect((await call('POST', '/api/meetings/lifecycle/participants/p2/remove', op)).status).toBe(404);
    expect(live.removed).toEqual(['p1']);
    expect((await call('DELETE', '/api/meetings/lifecycle', op)).status).toBe(409);
    const ended = await call('POST', '/api/meetings/lifecycle/end', op);
    expect(ended.json).toMatchObject({ state: 'ended', endedAt: expect.any(Number) });
    expect(live.ended).toContain('lifecycle');
    expect((await call('POST', '/api/meetings/lifecycle/end', op)).status).toBe(409);
    expect((await call('PATCH', '/api/meetings/lifecycle', { ...op, body: { title: 'x' } })).status).toBe(409);
    expect((await call('POST', '/api/meetings/lifecycle/tokens', { ...op, body: { unitId: town.id } })).status).toBe(409);
    expect((await call('DELETE', '/api/meetings/lifecycle', op)).status).toBe(204);
    const scheduled = await createMeeting({ title: '计划', startsAt: Date.now() + 3600_000 });
    expect((await call('DELETE', `/api/meetings/${scheduled.id}`, op)).status).toBe(204);
  });
});

describe('join tokens', () => {
  let meeting: MeetingRecord;
  beforeAll(async () => {
    meeting = await createMeeting({ id: 'tokens', title: '调度会', chairUnitId: city.id, invite: { subtrees: [county.id] }, pin: '135790' });
  });

  it('mints a unit token with its role, unit and roster group', async () => {
    const reply = await call('POST', '/api/meetings/tokens/tokens', { ...op, body: { unitId: town.id } });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json).toMatchObject({ role: 'participant', identity: town.id });
    expect(reply.json.url).toBe(`${PUBLIC_URL}/m/tokens?token=${reply.json.token}`);
    const grant = await verifyJoinToken(auth, reply.json.token, meeting.id);
    expect(grant).toMatchObject({ identity: town.id, name: town.name, role: 'participant', unitId: town.id, attributes: { unit: county.name } });
    const chair = await verifyJoinToken(auth, (await call('POST', '/api/meetings/tokens/tokens', { ...op, body: { unitId: city.id } })).json.token, meeting.id);
    expect(chair).toMatchObject({ role: 'chair', isAdmin: true, attributes: {} });
  });

  it('refuses a unit with no place unless a role is given, and mints for a plain identity', async () => {
    const refused = await call('POST', '/api/meetings/tokens/tokens', { ...op, body: { unitId: otherTown.id } });
    expect(refused.status).toBe(403);
    const observer = await call('POST', '/api/meetings/tokens/tokens', { ...op, body: { unitId: otherTown.id, role: 'observer' } });
    expect((await verifyJoinToken(auth, observer.json.token, meeting.id)).canPublish).toBe(false);
    const wall = await call('POST', '/api/meetings/tokens/tokens', { ...op, body: { identity: 'wall-1', name: '指挥中心大屏', hidden: true, ttlSeconds: 3600 } });
    expect(await verifyJoinToken(auth, wall.json.token, meeting.id)).toMatchObject({ identity: 'wall-1', hidden: true, role: 'participant' });
  });

  it('lets a unit account log in, find its meetings and fetch its own token', async () => {
    const token = await login('town-user');
    const mine = await call('GET', '/api/me/meetings', { token });
    const entry = mine.json.items.find((item: { id: string }) => item.id === 'tokens');
    expect(entry).toMatchObject({ role: 'participant', title: '调度会' });
    expect(entry.pin).toBeUndefined();
    const reply = await call('POST', '/api/me/meetings/tokens/token', { token });
    expect(await verifyJoinToken(auth, reply.json.token, 'tokens')).toMatchObject({ identity: town.id, role: 'participant', attributes: { unit: county.name } });
    const terminal = await call('POST', '/api/me/meetings/tokens/token', { token: await login('town-terminal') });
    expect(terminal.json.role).toBe('terminal');
  });

  it('admits an uninvited unit with the PIN only', async () => {
    const token = await login('other-town-user');
    expect((await call('GET', '/api/me/meetings', { token })).json.items.map((item: { id: string }) => item.id)).not.toContain('tokens');
    expect((await call('POST', '/api/me/meetings/tokens/token', { token })).status).toBe(403);
    expect((await call('POST', '/api/me/meetings/tokens/token', { token, body: { pin: '000000' } })).status).toBe(403);
    const admitted = await call('POST', '/api/me/meetings/tokens/token', { token, body: { pin: '135790' } });
    expect(admitted.status).toBe(200);
    expect(admitted.json).toMatchObject({ role: 'participant', identity: otherTown.id });
  });
});

describe('attendance and webhook log', () => {
  it('reports attendance as JSON and CSV, to operators and the chair', async () => {
    const start = Date.now() - 30 * 60_000;
    const meeting = await createMeeting({ id: 'attend', title: '签到', startsAt: start, chairUnitId: city.id, invite: { units: [county.id, town.id] } });
    const presence = store.attendance.openPresence(meeting.id, county.id, county.name, start + 60_000);
    store.attendance.closePresence(presence, start + 11 * 60_000);
    store.attendance.openPresence(meeting.id, city.id, city.name, start + 10 * 60_000);
    const report = await call('GET', '/api/meetings/attend/attendance', op);
    expect(report.json.rows.map((row: { unitId: string; status: string }) => [row.unitId, row.status])).toEqual([
      [city.id, 'late'],
      [county.id, 'present'],
      [town.id, 'absent'],
    ]);
    expect(report.json.totals).toMatchObject({ invited: 3, present: 1, late: 1, absent: 1 });
    const chairToken = (await call('POST', '/api/meetings/attend/tokens', { ...op, body: { unitId: city.id } })).json.token;
    const csv = await call('GET', '/api/meetings/attend/attendance.csv', { token: chairToken });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.text.split('\r\n')[0]).toBe('单位编号,单位名称,所属,角色,首次入会,最后离会,在会时长(分钟),出席状态,点名结果');
    expect(csv.text.split('\r\n')[2]).toMatch(new RegExp(`^${county.id},${county.name},,参会单位,.*,10,出席,未点名$`));
  });

  it('lists webhook deliveries, newest first', async () => {
    const now = Date.now();
    for (const eventId of ['EV_1', 'EV_2']) {
      store.webhookDeliveries.create({ eventId, event: 'room_started', url: 'http://hook', attempts: 1, status: 'delivered', lastStatusCode: 200, lastError: null, createdAt: now, updatedAt: now });
    }
    const reply = await call('GET', '/api/webhooks/deliveries?limit=1', op);
    expect(reply.json.items.map((item: { eventId: string }) => item.eventId)).toEqual(['EV_2']);
    expect((await call('GET', '/api/webhooks/deliveries?limit=0', op)).status).toBe(400);
  });
});

describe('bad input', () => {
  it('says where JSON is broken', async () => {
    const reply = await call('POST', '/api/meetings', { ...op, raw: '{\n  "title": "x",\n  "pin": }' });
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('BAD_REQUEST');
    expect(reply.json.error.message).toContain('line 3, column 10 (position 27)');
  });

  it('refuses other content types, oversize bodies and unknown fields', async () => {
    const form = await call('POST', '/api/meetings', { ...op, raw: 'title=x', contentType: 'application/x-www-form-urlencoded' });
    expect([form.status, form.json.error.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    const csvMeeting = await call('POST', '/api/meetings', { ...op, raw: 'a,b', contentType: 'text/csv' });
    expect(csvMeeting.status).toBe(415);
    const huge = await call('POST', '/api/units/import', { ...op, raw: 'x'.repeat(5 * 1024 * 1024 + 1), contentType: 'text/csv' });
    expect([huge.status, huge.json.error.code]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    const extra = await call('POST', '/api/meetings', { ...op, body: { title: 'x', colour: 'red' } });
    expect(extra.status).toBe(400);
    expect(extra.json.error.message).toMatch(/colour/);
    expect((await call('GET', '/api/meetings?colour=red', op)).status).toBe(400);
  });

  it('refuses bad ids, unknown routes and wrong methods', async () => {
    expect((await call('GET', '/api/units/bad%20id', op)).status).toBe(400);
    expect((await call('GET', '/api/meetings/by-number/123', op)).status).toBe(400);
    const unknown = await call('GET', '/api/nothing-here', op);
    expect([unknown.status, unknown.json.error.code]).toEqual([404, 'NOT_FOUND']);
    const wrong = await call('PUT', '/api/units', { ...op, body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, POST');
  });

  it('leaves non-API paths to the static handler', async () => {
    expect((await call('POST', '/healthz')).status).toBe(405);
    expect((await call('GET', '/healthz')).status).toBe(200);
  });
});

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1 with bearer security and the request schemas', async () => {
    const document = (await call('GET', '/api/openapi.json')).json;
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const create = document.paths['/api/meetings'].post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema).toMatchObject({ type: 'object', additionalProperties: false, required: ['title'] });
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['title', 'startsAt', 'invite', 'pin']));
    expect(document.paths['/api/units/import'].post.requestBody.content).toHaveProperty(['text/csv']);
    expect(document.paths['/api/meetings/{id}'].get.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: expect.any(Object) }]);
    expect(document.paths['/api/auth/login'].post.security).toEqual([]);
  });
});
