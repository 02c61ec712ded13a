import type { Database } from 'better-sqlite3';
import type { AttendanceRepository, PresenceRecord, RollCallRecord, RollCallResult } from '../types.js';
import { missingMeeting } from './constraints.js';

interface PresenceRow {
  id: number;
  meeting_id: string;
  unit_id: string;
  name: string;
  joined_at: number;
  left_at: number | null;
}

interface RollCallRow {
  meeting_id: string;
  unit_id: string;
  called_at: number;
  result: RollCallResult | null;
  marked_at: number | null;
  marked_by: string | null;
}

const presenceFromRow = (row: PresenceRow): PresenceRecord => ({
  id: row.id,
  meetingId: row.meeting_id,
  unitId: row.unit_id,
  name: row.name,
  joinedAt: row.joined_at,
  leftAt: row.left_at,
});

const rollCallFromRow = (row: RollCallRow): RollCallRecord => ({
  meetingId: row.meeting_id,
  unitId: row.unit_id,
  calledAt: row.called_at,
  result: row.result,
  markedAt: row.marked_at,
  markedBy: row.marked_by,
});

export function sqliteAttendance(db: Database): AttendanceRepository {
  const open = db.prepare<[string, string, string, number]>(
    'INSERT INTO presences (meeting_id, unit_id, name, joined_at) VALUES (?, ?, ?, ?)',
  );
  const close = db.prepare<[number, number]>('UPDATE presences SET left_at = ? WHERE id = ? AND left_at IS NULL');
  const closeOpen = db.prepare<[number]>('UPDATE presences SET left_at = ? WHERE left_at IS NULL');
  const presences = db.prepare<[string], PresenceRow>('SELECT * FROM presences WHERE meeting_id = ? ORDER BY joined_at, id');
  const saveRollCall = db.prepare<[RollCallRow]>(
    `INSERT INTO roll_calls (meeting_id, unit_id, called_at, result, marked_at, marked_by)
     VALUES (@meeting_id, @unit_id, @called_at, @result, @marked_at, @marked_by)
     ON CONFLICT (meeting_id, unit_id) DO UPDATE SET called_at = excluded.called_at, result = excluded.result,
       marked_at = excluded.marked_at, marked_by = excluded.marked_by`,
  );
  const rollCalls = db.prepare<[string], RollCallRow>('SELECT * FROM roll_calls WHERE meeting_id = ? ORDER BY called_at, unit_id');

  return {
    openPresence: (meetingId, unitId, name, joinedAt) => {
      try {
        return Number(open.run(meetingId, unitId, name, joinedAt).lastInsertRowid);
      } catch (error) {
        throw missingMeeting(error, meetingId, 'a presence');
      }
    },
    closePresence: (presenceId, leftAt) => {
      close.run(leftAt, presenceId);
    },
    closeOpenPresences: (leftAt) => closeOpen.run(leftAt).changes,
    presences: (meetingId) => presences.all(meetingId).map(presenceFromRow),
    saveRollCall: (record) => {
      try {
        saveRollCall.run({
          meeting_id: record.meetingId,
          unit_id: record.unitId,
          called_at: record.calledAt,
          result: record.result,
          marked_at: record.markedAt,
          marked_by: record.markedBy,
        });
      } catch (error) {
        throw missingMeeting(error, record.meetingId, 'a roll call');
      }
    },
    rollCalls: (meetingId) => rollCalls.all(meetingId).map(rollCallFromRow),
  };
}
