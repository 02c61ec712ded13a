import type { Database } from 'better-sqlite3';
import { StoreConflictError, type CascadeTargetRecord, type CascadeTargetRepository } from '../types.js';
import { applyChanges, fromJson, toJson } from './columns.js';
import { isUniqueViolation } from './constraints.js';

interface CascadeTargetRow {
  id: string;
  name: string;
  uri: string;
  username: string | null;
  password: string | null;
  display_name: string | null;
  bandwidth_kbps: number;
  audio_codecs: string;
  video: number;
  dtmf: string | null;
  dtmf_delay_ms: number;
  redial: number;
  created_by: string;
  created_at: number;
}

const fromRow = (row: CascadeTargetRow): CascadeTargetRecord => ({
  id: row.id,
  name: row.name,
  uri: row.uri,
  username: row.username,
  password: row.password,
  displayName: row.display_name,
  bandwidthKbps: row.bandwidth_kbps,
  audioCodecs: fromJson<CascadeTargetRecord['audioCodecs']>(row.audio_codecs),
  video: row.video === 1,
  dtmf: row.dtmf,
  dtmfDelayMs: row.dtmf_delay_ms,
  redial: row.redial === 1,
  createdBy: row.created_by,
  createdAt: row.created_at,
});

const toRow = (target: CascadeTargetRecord): CascadeTargetRow => ({
  id: target.id,
  name: target.name,
  uri: target.uri,
  username: target.username,
  password: target.password,
  display_name: target.displayName,
  bandwidth_kbps: target.bandwidthKbps,
  audio_codecs: toJson(target.audioCodecs),
  video: target.video ? 1 : 0,
  dtmf: target.dtmf,
  dtmf_delay_ms: target.dtmfDelayMs,
  redial: target.redial ? 1 : 0,
  created_by: target.createdBy,
  created_at: target.createdAt,
});

export function sqliteCascadeTargets(db: Database): CascadeTargetRepository {
  const list = db.prepare<[], CascadeTargetRow>('SELECT * FROM cascade_targets ORDER BY created_at, id');
  const get = db.prepare<[string], CascadeTargetRow>('SELECT * FROM cascade_targets WHERE id = ?');
  const insert = db.prepare<[CascadeTargetRow]>(
    `INSERT INTO cascade_targets (id, name, uri, username, password, display_name, bandwidth_kbps, audio_codecs, video, dtmf,
       dtmf_delay_ms, redial, created_by, created_at)
     VALUES (@id, @name, @uri, @username, @password, @display_name, @bandwidth_kbps, @audio_codecs, @video, @dtmf,
       @dtmf_delay_ms, @redial, @created_by, @created_at)`,
  );
  const write = db.prepare<[CascadeTargetRow]>(
    `UPDATE cascade_targets SET name = @name, uri = @uri, username = @username, password = @password, display_name = @display_name,
       bandwidth_kbps = @bandwidth_kbps, audio_codecs = @audio_codecs, video = @video, dtmf = @dtmf, dtmf_delay_ms = @dtmf_delay_ms,
       redial = @redial
     WHERE id = @id`,
  );
  const remove = db.prepare<[string]>('DELETE FROM cascade_targets WHERE id = ?');

  const getTarget = (id: string): CascadeTargetRecord | undefined => {
    const row = get.get(id);
    return row && fromRow(row);
  };

  return {
    list: () => list.all().map(fromRow),
    get: getTarget,
    create: (target) => {
      try {
        insert.run(toRow(target));
      } catch (error) {
        if (isUniqueViolation(error)) throw new StoreConflictError(`a cascade target with id "${target.id}" exists`);
        throw error;
      }
    },
    update: (id, changes) => {
      const current = getTarget(id);
      if (!current) return undefined;
      const updated = applyChanges<CascadeTargetRecord>(current, changes);
      write.run(toRow(updated));
      return updated;
    },
    delete: (id) => remove.run(id).changes > 0,
  };
}
