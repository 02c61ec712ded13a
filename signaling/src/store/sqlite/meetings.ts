import type { Database, Statement } from 'better-sqlite3';
import { StoreConflictError, type MeetingQuery, type MeetingRecord, type MeetingRepository, type MeetingSettings, type MeetingState } from '../types.js';
import { DEFAULT_MEETING_SETTINGS } from '../../governance/meetingRecords.js';
import { applyChanges, fromJson, toJson } from './columns.js';
import { isUniqueViolation } from './constraints.js';

interface MeetingRow {
  id: string;
  number: number;
  title: string;
  starts_at: number | null;
  ends_at: number | null;
  chair_unit_id: string | null;
  co_chair_unit_ids: string;
  main_venue_unit_id: string | null;
  invited_unit_ids: string;
  observer_unit_ids: string;
  pin: string | null;
  state: MeetingState;
  ad_hoc: number;
  settings: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}

const fromRow = (row: MeetingRow): MeetingRecord => ({
  id: row.id,
  number: row.number,
  title: row.title,
  startsAt: row.starts_at,
  endsAt: row.ends_at,
  chairUnitId: row.chair_unit_id,
  coChairUnitIds: fromJson<string[]>(row.co_chair_unit_ids),
  mainVenueUnitId: row.main_venue_unit_id,
  invitedUnitIds: fromJson<string[]>(row.invited_unit_ids),
  observerUnitIds: fromJson<string[]>(row.observer_unit_ids),
  pin: row.pin,
  state: row.state,
  adHoc: row.ad_hoc !== 0,
  // Settings added since a meeting was stored take their defaults.
  settings: { ...DEFAULT_MEETING_SETTINGS, ...fromJson<Partial<MeetingSettings>>(row.settings) },
  createdAt: row.created_at,
  startedAt: row.started_at,
  endedAt: row.ended_at,
});

const toRow = (meeting: MeetingRecord): MeetingRow => ({
  id: meeting.id,
  number: meeting.number,
  title: meeting.title,
  starts_at: meeting.startsAt,
  ends_at: meeting.endsAt,
  chair_unit_id: meeting.chairUnitId,
  co_chair_unit_ids: toJson(meeting.coChairUnitIds),
  main_venue_unit_id: meeting.mainVenueUnitId,
  invited_unit_ids: toJson(meeting.invitedUnitIds),
  observer_unit_ids: toJson(meeting.observerUnitIds),
  pin: meeting.pin,
  state: meeting.state,
  ad_hoc: meeting.adHoc ? 1 : 0,
  settings: toJson(meeting.settings),
  created_at: meeting.createdAt,
  started_at: meeting.startedAt,
  ended_at: meeting.endedAt,
});

const COLUMNS: readonly (keyof MeetingRow)[] = [
  'id', 'number', 'title', 'starts_at', 'ends_at', 'chair_unit_id', 'co_chair_unit_ids', 'main_venue_unit_id',
  'invited_unit_ids', 'observer_unit_ids', 'pin', 'state', 'ad_hoc', 'settings', 'created_at', 'started_at', 'ended_at',
];

/** A meeting "involves" a unit that it invites, or that chairs, co-chairs, observes or is the main venue. */
const INVOLVES_UNIT = `(chair_unit_id = @unitId OR main_venue_unit_id = @unitId
  OR EXISTS (SELECT 1 FROM json_each(invited_unit_ids) WHERE value = @unitId)
  OR EXISTS (SELECT 1 FROM json_each(co_chair_unit_ids) WHERE value = @unitId)
  OR EXISTS (SELECT 1 FROM json_each(observer_unit_ids) WHERE value = @unitId))`;

function conflict(error: unknown, meeting: Pick<MeetingRecord, 'id' | 'number'>): unknown {
  if (!isUniqueViolation(error)) return error;
  return error.message.includes('meetings.number')
    ? new StoreConflictError(`meeting number ${meeting.number} is taken: pick another number`)
    : new StoreConflictError(`meeting id "${meeting.id}" is taken: pick another id`);
}

/**
 * Lists are ordered by scheduled start, then creation; meetings without a schedule (ad hoc) come
 * after the scheduled ones.
 */
export function sqliteMeetings(db: Database): MeetingRepository {
  const get = db.prepare<[string], MeetingRow>('SELECT * FROM meetings WHERE id = ?');
  const getByNumber = db.prepare<[number], MeetingRow>('SELECT * FROM meetings WHERE number = ?');
  const insert = db.prepare<[MeetingRow]>(
    `INSERT INTO meetings (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((column) => `@${column}`).join(', ')})`,
  );
  const write = db.prepare<[MeetingRow]>(
    `UPDATE meetings SET ${COLUMNS.filter((column) => column !== 'id').map((column) => `${column} = @${column}`).join(', ')} WHERE id = @id`,
  );
  const remove = db.prepare<[string]>('DELETE FROM meetings WHERE id = ?');
  /** One statement per combination of filters, prepared on first use. */
  const listStatements = new Map<string, Statement<[MeetingQuery], MeetingRow>>();

  const read = (id: string): MeetingRecord | undefined => {
    const row = get.get(id);
    return row && fromRow(row);
  };

  const list = (query: MeetingQuery = {}): MeetingRecord[] => {
    const conditions = [
      query.state !== undefined && 'state = @state',
      query.unitId !== undefined && INVOLVES_UNIT,
      query.from !== undefined && 'starts_at >= @from',
      query.to !== undefined && 'starts_at < @to',
    ].filter((condition): condition is string => condition !== false);
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const sql = `SELECT * FROM meetings ${where} ORDER BY starts_at IS NULL, starts_at, created_at, id`;
    let statement = listStatements.get(sql);
    if (!statement) {
      statement = db.prepare<[MeetingQuery], MeetingRow>(sql);
      listStatements.set(sql, statement);
    }
    const { state, unitId, from, to } = query;
    const params = Object.fromEntries(Object.entries({ state, unitId, from, to }).filter(([, value]) => value !== undefined));
    return statement.all(params as MeetingQuery).map(fromRow);
  };

  return {
    list,
    get: read,
    getByNumber: (number) => {
      const row = getByNumber.get(number);
      return row && fromRow(row);
    },
    create: (meeting) => {
      try {
        insert.run(toRow(meeting));
      } catch (error) {
        throw conflict(error, meeting);
      }
    },
    update: db.transaction((id: string, changes: Partial<Omit<MeetingRecord, 'id' | 'createdAt'>>) => {
      const current = read(id);
      if (!current) return undefined;
      const updated = applyChanges(current, { ...changes, id, createdAt: current.createdAt });
      try {
        write.run(toRow(updated));
      } catch (error) {
        throw conflict(error, updated);
      }
      return updated;
    }),
    delete: (id) => remove.run(id).changes > 0,
  };
}
