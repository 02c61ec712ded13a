// Cascade targets in the SQLite store: every field survives a close and reopen (the audio codecs
// as JSON, in order), ids are unique, partial updates leave the rest alone; and the migration
// brings a version-2 database (feeds, no cascade targets) up.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, SCHEMA_VERSION } from '../src/store/sqlite/migrations.js';
import { openSqliteStore, StoreConflictError, type CascadeTargetRecord, type Store } from '../src/store/index.js';

let dir: string;
let file: string;
let store: Store;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cityconf-cascade-'));
  file = join(dir, 'cityconf.db');
  store = openSqliteStore(file);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const provincial = (changes: Partial<CascadeTargetRecord> = {}): CascadeTargetRecord => ({
  id: 'province',
  name: '省视频会议平台',
  uri: 'sip:9000@10.1.1.1;transport=tcp',
  username: 'jiangzhou',
  password: 's3cret',
  displayName: '江州市视频会议',
  bandwidthKbps: 2048,
  audioCodecs: ['G722', 'PCMA'],
  video: true,
  dtmf: '123456#',
  dtmfDelayMs: 3000,
  redial: true,
  createdBy: 'ops',
  createdAt: 1_700_000_000_000,
  ...changes,
});

describe('cascade targets', () => {
  it('keeps every field across a reopen', () => {
    store.cascadeTargets.create(provincial());
    store.cascadeTargets.create(provincial({ id: 'nation', name: '国家平台', username: null, password: null, dtmf: null, video: false, redial: false, createdAt: 1_700_000_000_001 }));
    store.close();
    store = openSqliteStore(file);
    expect(store.cascadeTargets.get('province')).toEqual(provincial());
    expect(store.cascadeTargets.list().map((target) => target.id)).toEqual(['province', 'nation']);
    expect(store.cascadeTargets.get('nation')).toMatchObject({ username: null, password: null, dtmf: null, video: false, redial: false });
    expect(store.cascadeTargets.get('nope')).toBeUndefined();
  });

  it('refuses a taken id', () => {
    store.cascadeTargets.create(provincial());
    expect(() => store.cascadeTargets.create(provincial())).toThrow(StoreConflictError);
  });

  it('updates only the fields given, and sets null when asked', () => {
    store.cascadeTargets.create(provincial());
    const updated = store.cascadeTargets.update('province', { audioCodecs: ['opus', 'PCMU'], password: null, username: undefined });
    expect(updated).toEqual(provincial({ audioCodecs: ['opus', 'PCMU'], password: null }));
    expect(store.cascadeTargets.get('province')).toEqual(updated);
    expect(store.cascadeTargets.update('nope', { name: 'x' })).toBeUndefined();
  });

  it('deletes', () => {
    store.cascadeTargets.create(provincial());
    expect(store.cascadeTargets.delete('province')).toBe(true);
    expect(store.cascadeTargets.delete('province')).toBe(false);
    expect(store.cascadeTargets.list()).toEqual([]);
  });

  it('comes with the migration from a database that has feeds but no cascade targets', () => {
    store.close();
    const old = join(dir, 'v2.db');
    const db = new Database(old);
    for (const migration of MIGRATIONS.slice(0, 2)) db.exec(migration.sql);
    db.pragma('user_version = 2');
    expect(migrate(db, old)).toBe(SCHEMA_VERSION - 2);
    db.close();
    store = openSqliteStore(old);
    store.cascadeTargets.create(provincial());
    expect(store.cascadeTargets.list()).toHaveLength(1);
  });
});
