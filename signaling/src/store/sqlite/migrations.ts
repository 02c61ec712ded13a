// The schema, as a numbered, append-only list of migrations. Version N is MIGRATIONS[N - 1]; the
// version a database is at is its `PRAGMA user_version`. Never edit a migration that has shipped:
// append a new one (databases out there have already run the old ones).
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'units, accounts, meetings, attendance, chat, webhook deliveries',
    sql: `
      CREATE TABLE units (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        level TEXT NOT NULL CHECK (level IN ('city', 'county', 'town', 'department')),
        -- Deferred: a directory import inserts children before their parents within one transaction.
        parent_id TEXT REFERENCES units (id) DEFERRABLE INITIALLY DEFERRED,
        sort_order INTEGER NOT NULL DEFAULT 0,
        sip_uri TEXT
      ) STRICT;
      CREATE INDEX units_parent ON units (parent_id);

      CREATE TABLE accounts (
        username TEXT PRIMARY KEY,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('operator', 'unit', 'terminal')),
        unit_id TEXT,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) STRICT;

      -- Unit ids are kept as plain ids (no foreign keys): a meeting outlives the units it invited.
      CREATE TABLE meetings (
        id TEXT PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        title TEXT NOT NULL,
        starts_at INTEGER,
        ends_at INTEGER,
        chair_unit_id TEXT,
        co_chair_unit_ids TEXT NOT NULL DEFAULT '[]',
        main_venue_unit_id TEXT,
        invited_unit_ids TEXT NOT NULL DEFAULT '[]',
        observer_unit_ids TEXT NOT NULL DEFAULT '[]',
        pin TEXT,
        state TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),
        ad_hoc INTEGER NOT NULL,
        settings TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER
      ) STRICT;
      CREATE INDEX meetings_schedule ON meetings (starts_at, created_at);
      CREATE INDEX meetings_state ON meetings (state);

      CREATE TABLE presences (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
        unit_id TEXT NOT NULL,
        name TEXT NOT NULL,
        joined_at INTEGER NOT NULL,
        left_at INTEGER
      ) STRICT;
      CREATE INDEX presences_meeting ON presences (meeting_id, joined_at);
      CREATE INDEX presences_open ON presences (id) WHERE left_at IS NULL;

      CREATE TABLE roll_calls (
        meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
        unit_id TEXT NOT NULL,
        called_at INTEGER NOT NULL,
        result TEXT CHECK (result IN ('present', 'absent')),
        marked_at INTEGER,
        marked_by TEXT,
        PRIMARY KEY (meeting_id, unit_id)
      ) STRICT;

      -- The whole message as JSON, so that fields the protocol adds later are kept too.
      CREATE TABLE chat_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        meeting_id TEXT NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
        sent_at INTEGER NOT NULL,
        message TEXT NOT NULL
      ) STRICT;
      CREATE INDEX chat_messages_meeting ON chat_messages (meeting_id, seq);

      CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL,
        event TEXT NOT NULL,
        url TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        last_status_code INTEGER,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'drone and camera feeds',
    sql: `
      CREATE TABLE feeds (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('rtmp', 'whip', 'rtsp', 'srt')),
        stream_key TEXT UNIQUE,
        url TEXT,
        transcode INTEGER NOT NULL DEFAULT 0,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 3,
    description: 'cascade targets (upper-level MCUs)',
    sql: `
      -- audio_codecs: a JSON array in order of preference.
      CREATE TABLE cascade_targets (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        uri TEXT NOT NULL,
        username TEXT,
        password TEXT,
        display_name TEXT,
        bandwidth_kbps INTEGER NOT NULL,
        audio_codecs TEXT NOT NULL,
        video INTEGER NOT NULL,
        dtmf TEXT,
        dtmf_delay_ms INTEGER NOT NULL,
        redial INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT;
    `,
  },
];

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings `db` up to SCHEMA_VERSION in one transaction and returns how many migrations it applied
 * (0 for an up-to-date database). Refuses a database written by a newer version of the server.
 */
export function migrate(db: Database, file: string): number {
  const pending = db
    .transaction(() => {
      const current = db.pragma('user_version', { simple: true }) as number;
      if (current > SCHEMA_VERSION) {
        throw new Error(
          `${file} has schema version ${current}, but this server only knows versions up to ${SCHEMA_VERSION}: ` +
            'run the newer server that wrote it, or restore a backup taken before the upgrade',
        );
      }
      const todo = MIGRATIONS.slice(current);
      for (const migration of todo) db.exec(migration.sql);
      if (todo.length > 0) db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return todo.length;
    })
    // IMMEDIATE: two servers starting on one file must not both see the old version.
    .immediate();
  return pending;
}
