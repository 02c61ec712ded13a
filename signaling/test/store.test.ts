// The embedded SQLite store, against real files in a temp dir: every repository, what survives a
// close and reopen, migrations, conflicts and transactions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../src/auth/passwords.js';
import { adHocMeeting } from '../src/governance/meetingRecords.js';
import type { ChatMessage } from '../src/protocol.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/store/sqlite/migrations.js';
import { openSqliteStore, StoreConflictError, type Account, type MeetingRecord, type Store, type Unit } from '../src/store/index.js';
import { sampleDirectory } from './unitDirectory.js';

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cityconf-store-'));
  file = join(dir, 'cityconf.db');
  store = openSqliteStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function reopen(): Store {
  store.close();
  store = openSqliteStore(file);
  return store;
}

const unit = (id: string, level: Unit['level'], parentId: string | null, extra: Partial<Unit> = {}): Unit => ({
  id,
  name: `单位${id}`,
  level,
  parentId,
  sortOrder: 0,
  sipUri: null,
  ...extra,
});

const account = (username: string, extra: Partial<Account> = {}): Account => ({
  username,
  displayName: `用户${username}`,
  role: 'unit',
  unitId: 'c01',
  passwordHash: 'scrypt$c2FsdA==$aGFzaA==',
  disabled: false,
  createdAt: 1_700_000_000_000,
  ...extra,
});

/** A scheduled meeting that nobody has started yet. */
const meeting = (id: string, number: number, extra: Partial<MeetingRecord> = {}): MeetingRecord => ({
  ...adHocMeeting(id, number, 1_700_000_000_000),
  title: `会议${id}`,
  state: 'scheduled',
  adHoc: false,
  startedAt: null,
  ...extra,
});

const chat = (id: string, sentAt: number): ChatMessage => ({
  id,
  participantId: `p-${id}`,
  identity: 'c01',
  name: '甲县',
  text: `消息 ${id}, "引号"`,
  sentAt,
});

describe('units', () => {
  it('stores, updates, replaces and deletes units', () => {
    store.units.upsertMany([unit('city', 'city', null), unit('c01', 'county', 'city', { sortOrder: 2, sipUri: 'sip:c01@x' })]);
    expect(store.units.count()).toBe(2);
    expect(store.units.get('c01')).toEqual({ id: 'c01', name: '单位c01', level: 'county', parentId: 'city', sortOrder: 2, sipUri: 'sip:c01@x' });

    store.units.upsertMany([unit('c01', 'county', 'city', { name: '甲县' }), unit('c01.t01', 'town', 'c01')]);
    expect(store.units.list().map((u) => [u.id, u.name])).toEqual([
      ['city', '单位city'],
      ['c01', '甲县'],
      ['c01.t01', '单位c01.t01'],
    ]);

    expect(() => store.units.delete('c01')).toThrow(/unit "c01" still has 1 child unit\(s\) \("c01.t01"\): delete or move them first/);
    expect(store.units.delete('c01.t01')).toBe(true);
    expect(store.units.delete('c01.t01')).toBe(false);

    // Children before parents is fine within one call (the foreign key is checked at commit).
    store.units.replaceAll([unit('c09', 'county', 'root'), unit('root', 'city', null)]);
    expect(store.units.list().map((u) => u.id)).toEqual(['c09', 'root']);
  });

  it('rolls back a change that would leave a unit without its parent', () => {
    store.units.upsertMany([unit('city', 'city', null)]);
    expect(() => store.units.upsertMany([unit('c01', 'county', 'city'), unit('c02', 'county', 'nowhere')])).toThrow(
      /units whose parent does not exist: "c02" \(parent "nowhere"\)/,
    );
    expect(() => store.units.replaceAll([unit('c01', 'county', 'city')])).toThrow(/"c01" \(parent "city"\)/);
    expect(store.units.list().map((u) => u.id)).toEqual(['city']);
  });
});

describe('accounts', () => {
  it('creates, updates and deletes accounts, and refuses a taken username', () => {
    store.accounts.create(account('zhang'));
    store.accounts.create(account('admin', { role: 'operator', unitId: null }));
    expect(() => store.accounts.create(account('zhang'))).toThrow(StoreConflictError);
    expect(() => store.accounts.create(account('zhang'))).toThrow('username "zhang" is taken: choose another');

    const updated = store.accounts.update('zhang', { disabled: true, displayName: '张三', unitId: undefined });
    expect(updated).toEqual(account('zhang', { disabled: true, displayName: '张三' }));
    expect(store.accounts.update('nobody', { disabled: true })).toBeUndefined();
    expect(store.accounts.list().map((a) => a.username)).toEqual(['admin', 'zhang']);
    expect(store.accounts.delete('zhang')).toBe(true);
    expect(store.accounts.delete('zhang')).toBe(false);
    expect(store.accounts.get('zhang')).toBeUndefined();
  });
});

describe('meetings', () => {
  it('creates, finds, updates and deletes meetings, and refuses a taken id or number', () => {
    const record = meeting('m1', 12345678, { invitedUnitIds: ['c01', 'c02'], pin: '0420' });
    store.meetings.create(record);
    expect(store.meetings.get('m1')).toEqual(record);
    expect(store.meetings.getByNumber(12345678)).toEqual(record);
    expect(() => store.meetings.create(meeting('m1', 22222222))).toThrow('meeting id "m1" is taken: pick another id');
    expect(() => store.meetings.create(meeting('m2', 12345678))).toThrow('meeting number 12345678 is taken: pick another number');

    store.meetings.create(meeting('m2', 22222222));
    expect(() => store.meetings.update('m2', { number: 12345678 })).toThrow(StoreConflictError);
    const updated = store.meetings.update('m1', { state: 'live', startedAt: 5, settings: { floorMode: 'controlled', allowSelfUnmute: false, locked: true, autoRecord: false } });
    expect(updated).toEqual({ ...record, state: 'live', startedAt: 5, settings: { floorMode: 'controlled', allowSelfUnmute: false, locked: true, autoRecord: false } });
    expect(store.meetings.get('m1')).toEqual(updated);
    expect(store.meetings.update('missing', { title: 'x' })).toBeUndefined();

    expect(store.meetings.delete('m2')).toBe(true);
    expect(store.meetings.delete('m2')).toBe(false);
    expect(store.meetings.getByNumber(22222222)).toBeUndefined();
  });

  it('lists by state, unit and schedule, ordered by start then creation', () => {
    const day = 86_400_000;
    store.meetings.create(meeting('adhoc', 10000001, { state: 'live', adHoc: true, createdAt: 1 }));
    store.meetings.create(meeting('late', 10000002, { startsAt: 3 * day, createdAt: 1, observerUnitIds: ['c03'] }));
    store.meetings.create(meeting('early-b', 10000003, { startsAt: day, createdAt: 20, chairUnitId: 'city', invitedUnitIds: ['c01'] }));
    store.meetings.create(meeting('early-a', 10000004, { startsAt: day, createdAt: 10, coChairUnitIds: ['c02'], state: 'ended' }));
    store.meetings.create(meeting('mid', 10000005, { startsAt: 2 * day, createdAt: 5, mainVenueUnitId: 'c01' }));

    const ids = (query?: Parameters<Store['meetings']['list']>[0]): string[] => store.meetings.list(query).map((m) => m.id);
    expect(ids()).toEqual(['early-a', 'early-b', 'mid', 'late', 'adhoc']);
    expect(ids({ state: 'scheduled' })).toEqual(['early-b', 'mid', 'late']);
    expect(ids({ state: 'live' })).toEqual(['adhoc']);
    expect(ids({ unitId: 'c01' })).toEqual(['early-b', 'mid']);
    expect(ids({ unitId: 'c02' })).toEqual(['early-a']);
    expect(ids({ unitId: 'c03' })).toEqual(['late']);
    expect(ids({ unitId: 'city' })).toEqual(['early-b']);
    expect(ids({ unitId: 'c0' })).toEqual([]);
    expect(ids({ from: 2 * day })).toEqual(['mid', 'late']);
    expect(ids({ to: 2 * day })).toEqual(['early-a', 'early-b']);
    expect(ids({ from: day, to: 3 * day, state: 'scheduled', unitId: 'c01' })).toEqual(['early-b', 'mid']);
  });
});

describe('attendance', () => {
  beforeEach(() => store.meetings.create(meeting('m1', 12345678)));

  it('opens and closes presences, and closes those a crash left open', () => {
    const first = store.attendance.openPresence('m1', 'c01', '甲县', 100);
    const second = store.attendance.openPresence('m1', 'c02', '乙县', 150);
    const third = store.attendance.openPresence('m1', 'c01', '甲县', 300);
    store.attendance.closePresence(first, 200);
    store.attendance.closePresence(first, 999); // closed already: unchanged
    expect(store.attendance.presences('m1')).toEqual([
      { id: first, meetingId: 'm1', unitId: 'c01', name: '甲县', joinedAt: 100, leftAt: 200 },
      { id: second, meetingId: 'm1', unitId: 'c02', name: '乙县', joinedAt: 150, leftAt: null },
      { id: third, meetingId: 'm1', unitId: 'c01', name: '甲县', joinedAt: 300, leftAt: null },
    ]);
    expect(reopen().attendance.closeOpenPresences(500)).toBe(2);
    expect(store.attendance.closeOpenPresences(600)).toBe(0);
    expect(store.attendance.presences('m1').map((p) => p.leftAt)).toEqual([200, 500, 500]);
  });

  it('keeps the latest roll call of each unit', () => {
    store.attendance.saveRollCall({ meetingId: 'm1', unitId: 'c02', calledAt: 10, result: null, markedAt: null, markedBy: null });
    store.attendance.saveRollCall({ meetingId: 'm1', unitId: 'c01', calledAt: 20, result: null, markedAt: null, markedBy: null });
    store.attendance.saveRollCall({ meetingId: 'm1', unitId: 'c02', calledAt: 10, result: 'present', markedAt: 30, markedBy: 'chair' });
    expect(store.attendance.rollCalls('m1')).toEqual([
      { meetingId: 'm1', unitId: 'c02', calledAt: 10, result: 'present', markedAt: 30, markedBy: 'chair' },
      { meetingId: 'm1', unitId: 'c01', calledAt: 20, result: null, markedAt: null, markedBy: null },
    ]);
    expect(store.attendance.rollCalls('other')).toEqual([]);
  });

  it('refuses attendance for a meeting that has no record, and deletes it with the meeting', () => {
    expect(() => store.attendance.openPresence('ghost', 'c01', '甲县', 1)).toThrow(
      'cannot record a presence for meeting "ghost": no such meeting record; create the meeting first',
    );
    store.attendance.openPresence('m1', 'c01', '甲县', 1);
    store.attendance.saveRollCall({ meetingId: 'm1', unitId: 'c01', calledAt: 1, result: null, markedAt: null, markedBy: null });
    store.chat.append('m1', chat('a', 1));
    store.meetings.delete('m1');
    expect(store.attendance.presences('m1')).toEqual([]);
    expect(store.attendance.rollCalls('m1')).toEqual([]);
    expect(store.chat.all('m1')).toEqual([]);
  });
});

describe('chat', () => {
  it('returns all or the most recent messages, oldest first, per meeting', () => {
    store.meetings.create(meeting('m1', 11111111));
    store.meetings.create(meeting('m2', 22222222));
    for (let i = 1; i <= 5; i++) store.chat.append('m1', chat(`m1-${i}`, i));
    store.chat.append('m2', chat('m2-1', 3));
    expect(store.chat.recent('m1', 2)).toEqual([chat('m1-4', 4), chat('m1-5', 5)]);
    expect(store.chat.recent('m1', 0)).toEqual([]);
    expect(store.chat.all('m1').map((m) => m.id)).toEqual(['m1-1', 'm1-2', 'm1-3', 'm1-4', 'm1-5']);
    expect(store.chat.all('m2')).toEqual([chat('m2-1', 3)]);
  });
});

describe('webhook deliveries', () => {
  it('records deliveries and their attempts, newest first', () => {
    const base = { event: 'room_started', url: 'http://hooks.example/x', attempts: 0, status: 'pending' as const, lastStatusCode: null, lastError: null };
    const first = store.webhookDeliveries.create({ ...base, eventId: 'EV_1', createdAt: 1, updatedAt: 1 });
    const second = store.webhookDeliveries.create({ ...base, eventId: 'EV_2', createdAt: 2, updatedAt: 2 });
    expect(second.id).toBeGreaterThan(first.id);
    store.webhookDeliveries.update(first.id, { attempts: 1, status: 'failed', lastStatusCode: 500, lastError: 'HTTP 500', updatedAt: 9 });
    store.webhookDeliveries.update(12345, { attempts: 1 }); // unknown id: nothing to update
    expect(store.webhookDeliveries.list(10)).toEqual([
      second,
      { ...first, attempts: 1, status: 'failed', lastStatusCode: 500, lastError: 'HTTP 500', updatedAt: 9 },
    ]);
    expect(store.webhookDeliveries.list(1)).toEqual([second]);
  });
});

describe('transactions', () => {
  it('commits work across repositories and returns its result', () => {
    const result = store.transaction(() => {
      store.units.upsertMany([unit('city', 'city', null)]);
      store.meetings.create(meeting('m1', 12345678));
      return 'done';
    });
    expect(result).toBe('done');
    expect(store.units.count()).toBe(1);
    expect(store.meetings.get('m1')?.id).toBe('m1');
  });

  it('leaves nothing behind when the work throws', () => {
    store.meetings.create(meeting('m0', 10000000));
    expect(() =>
      store.transaction(() => {
        store.units.replaceAll([unit('city', 'city', null)]);
        store.accounts.create(account('zhang'));
        store.meetings.create(meeting('m1', 12345678));
        store.attendance.openPresence('m1', 'city', '江州市', 1);
        store.chat.append('m1', chat('a', 1));
        store.meetings.create(meeting('m2', 12345678)); // number taken: throws
      }),
    ).toThrow(StoreConflictError);
    expect(store.units.count()).toBe(0);
    expect(store.accounts.list()).toEqual([]);
    expect(store.meetings.list().map((m) => m.id)).toEqual(['m0']);
    expect(store.attendance.presences('m1')).toEqual([]);
    expect(store.chat.all('m1')).toEqual([]);
  });
});

describe('persistence', () => {
  it('keeps every record across a close and reopen', async () => {
    const units = sampleDirectory();
    const record = meeting('m1', 12345678, {
      startsAt: 1000,
      endsAt: 2000,
      chairUnitId: 'city',
      coChairUnitIds: ['c01'],
      mainVenueUnitId: 'c02',
      invitedUnitIds: ['c01', 'c02', 'c01.t01'],
      observerUnitIds: ['c03'],
      pin: '123456',
      settings: { floorMode: 'controlled', allowSelfUnmute: false, locked: true, autoRecord: false },
    });
    const admin = account('admin', { role: 'operator', unitId: null, passwordHash: await hashPassword('城市 password') });
    store.units.replaceAll(units);
    store.accounts.create(admin);
    store.meetings.create(record);
    const presence = store.attendance.openPresence('m1', 'c01', '甲县', 1500);
    store.attendance.saveRollCall({ meetingId: 'm1', unitId: 'c01', calledAt: 1600, result: 'absent', markedAt: 1700, markedBy: 'chair' });
    store.chat.append('m1', chat('a', 1550));
    const delivery = store.webhookDeliveries.create({
      eventId: 'EV_1',
      event: 'participant_joined',
      url: 'http://hooks.example/x',
      attempts: 1,
      status: 'delivered',
      lastStatusCode: 200,
      lastError: null,
      createdAt: 1500,
      updatedAt: 1501,
    });

    reopen();
    expect(store.units.list()).toEqual(units);
    expect(store.accounts.get('admin')).toEqual(admin);
    expect(await verifyPassword('城市 password', store.accounts.get('admin')!.passwordHash)).toBe(true);
    expect(store.meetings.get('m1')).toEqual(record);
    expect(store.attendance.presences('m1')).toEqual([{ id: presence, meetingId: 'm1', unitId: 'c01', name: '甲县', joinedAt: 1500, leftAt: null }]);
    expect(store.attendance.rollCalls('m1')).toEqual([{ meetingId: 'm1', unitId: 'c01', calledAt: 1600, result: 'absent', markedAt: 1700, markedBy: 'chair' }]);
    expect(store.chat.all('m1')).toEqual([chat('a', 1550)]);
    expect(store.webhookDeliveries.list(10)).toEqual([delivery]);
  });

  it('opens the file in WAL mode with foreign keys on', () => {
    store.close();
    const db = new Database(file);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
    store = openSqliteStore(file);
    expect(() => store.attendance.openPresence('ghost', 'u', 'n', 1)).toThrow(/no such meeting record/);
  });

  it('works in memory', () => {
    const memory = openSqliteStore(':memory:');
    memory.units.upsertMany([unit('city', 'city', null)]);
    expect(memory.units.count()).toBe(1);
    memory.close();
  });
});

describe('migrations', () => {
  it('numbers migrations 1, 2, 3… in order', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('does nothing to an up-to-date database', () => {
    store.units.upsertMany([unit('city', 'city', null)]);
    store.close();
    const db = new Database(file);
    try {
      expect(migrate(db, file)).toBe(0);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
    store = openSqliteStore(file);
    expect(store.units.count()).toBe(1);
  });

  it('migrates a new database from version 0', () => {
    const db = new Database(':memory:');
    try {
      expect(migrate(db, ':memory:')).toBe(SCHEMA_VERSION);
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('refuses a database written by a newer server, and leaves it as it was', () => {
    store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => (store = openSqliteStore(file))).toThrow(
      `${file} has schema version ${SCHEMA_VERSION + 1}, but this server only knows versions up to ${SCHEMA_VERSION}: ` +
        'run the newer server that wrote it, or restore a backup taken before the upgrade',
    );
    const after = new Database(file);
    expect(after.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 1);
    after.pragma(`user_version = ${SCHEMA_VERSION}`);
    after.close();
    store = openSqliteStore(file);
  });
});

describe('passwords', () => {
  it('hashes with a random salt and verifies', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^scrypt\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{86}==$/);
    expect(await hashPassword('correct horse')).not.toBe(hash);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('correct horsE', hash)).toBe(false);
    expect(await verifyPassword('', hash)).toBe(false);
  });

  it('rejects malformed hashes', async () => {
    for (const bad of ['', 'scrypt', 'scrypt$$', 'bcrypt$c2FsdA==$aGFzaA==', 'scrypt$c2FsdA==$aGFzaA==$x', 'plain text']) {
      expect(await verifyPassword('x', bad)).toBe(false);
    }
  });
});
