// The attendance report (签到表) of a meeting: one row per unit that had a place in it, and per
// anyone else who came, with when they were there, whether they came late, and the roll call.
import type { UnitTree } from '../directory/unitTree.js';
import type { MeetingRecord, PresenceRecord, RollCallRecord } from '../store/types.js';
import { MEETING_ROLE_LABELS, meetingRoleFor, type MeetingRole } from './roles.js';

export type AttendanceStatus = 'present' | 'late' | 'absent';
export type RollCallStatus = 'present' | 'absent' | 'called' | 'not_called';

export interface AttendanceRow {
  /** The unit id, or the token identity of someone who is not a unit. */
  unitId: string;
  name: string;
  /** The units above this one, '/'-joined without the city (as in the join token's attributes.unit). */
  path: string;
  /** The unit's place in the meeting; null for someone who came without one (PIN, operator link). */
  role: MeetingRole | null;
  firstJoinedAt: number | null;
  /** null while still in the meeting, or if never there. */
  lastLeftAt: number | null;
  /** Time in the meeting, overlapping presences (two devices) counted once. */
  presentMs: number;
  status: AttendanceStatus;
  rollCall: RollCallStatus;
}

export interface AttendanceReport {
  meeting: Pick<MeetingRecord, 'id' | 'number' | 'title' | 'startsAt' | 'endsAt' | 'startedAt' | 'endedAt' | 'state'>;
  generatedAt: number;
  lateGraceMs: number;
  rows: AttendanceRow[];
  /** invited: rows with a role; present, late, absent: rows by status; rollCalled: rows called at least once. */
  totals: { invited: number; present: number; late: number; absent: number; rollCalled: number };
}

export interface AttendanceInput {
  meeting: MeetingRecord;
  units: UnitTree;
  presences: readonly PresenceRecord[];
  rollCalls: readonly RollCallRecord[];
  now: number;
  lateGraceMs: number;
}

/**
 * The units above `unitId`, '/'-joined, without a city root: the group the web client's roster
 * files the unit under (`attributes.unit`). '' for the city and the units directly under it.
 */
export function unitGroupPath(units: UnitTree, unitId: string): string {
  if (!units.get(unitId)) return '';
  const above = units.path(unitId).slice(0, -1);
  if (above[0]?.level === 'city') above.shift();
  return above.map((unit) => unit.name).join('/');
}

/** Units with a place in the meeting, in invitation (roll-call) order, then the observers. */
function placedUnits(meeting: MeetingRecord): string[] {
  const ids = [
    ...meeting.invitedUnitIds,
    meeting.chairUnitId,
    ...meeting.coChairUnitIds,
    meeting.mainVenueUnitId,
    ...meeting.observerUnitIds,
  ].filter((id): id is string => id !== null);
  return [...new Set(ids)];
}

/** The total length of the intervals, overlaps counted once; open intervals run until `now`. */
export function mergedDuration(presences: readonly PresenceRecord[], now: number): number {
  const intervals = presences
    .map((presence) => [presence.joinedAt, Math.max(presence.joinedAt, presence.leftAt ?? now)] as const)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [from, to] of intervals) {
    if (to <= end) continue;
    total += to - Math.max(from, end);
    end = to;
  }
  return total;
}

function rollCallStatus(record: RollCallRecord | undefined): RollCallStatus {
  if (!record) return 'not_called';
  return record.result ?? 'called';
}

export function buildAttendanceReport({ meeting, units, presences, rollCalls, now, lateGraceMs }: AttendanceInput): AttendanceReport {
  const presencesOf = new Map<string, PresenceRecord[]>();
  for (const presence of presences) {
    const list = presencesOf.get(presence.unitId) ?? [];
    list.push(presence);
    presencesOf.set(presence.unitId, list);
  }
  const rollCallOf = new Map(rollCalls.map((record) => [record.unitId, record]));
  const placed = placedUnits(meeting);
  const placedSet = new Set(placed);
  const walkIns = [...presencesOf.keys()]
    .filter((id) => !placedSet.has(id))
    .sort((a, b) => firstJoin(presencesOf.get(a)!) - firstJoin(presencesOf.get(b)!));
  const start = meeting.startsAt ?? meeting.startedAt;

  const rows = [...placed, ...walkIns].map((unitId): AttendanceRow => {
    const own = presencesOf.get(unitId) ?? [];
    const firstJoinedAt = own.length > 0 ? firstJoin(own) : null;
    const stillIn = own.some((presence) => presence.leftAt === null);
    const lastLeftAt = own.length === 0 || stillIn ? null : Math.max(...own.map((presence) => presence.leftAt!));
    const status: AttendanceStatus =
      firstJoinedAt === null ? 'absent' : start !== null && firstJoinedAt > start + lateGraceMs ? 'late' : 'present';
    return {
      unitId,
      name: units.get(unitId)?.name ?? own[0]?.name ?? unitId,
      path: unitGroupPath(units, unitId),
      role: meetingRoleFor(meeting, { role: 'unit', unitId }),
      firstJoinedAt,
      lastLeftAt,
      presentMs: mergedDuration(own, now),
      status,
      rollCall: rollCallStatus(rollCallOf.get(unitId)),
    };
  });

  const count = (test: (row: AttendanceRow) => boolean) => rows.filter(test).length;
  const { id, number, title, startsAt, endsAt, startedAt, endedAt, state } = meeting;
  return {
    meeting: { id, number, title, startsAt, endsAt, startedAt, endedAt, state },
    generatedAt: now,
    lateGraceMs,
    rows,
    totals: {
      invited: count((row) => row.role !== null),
      present: count((row) => row.status === 'present'),
      late: count((row) => row.status === 'late'),
      absent: count((row) => row.status === 'absent'),
      rollCalled: count((row) => row.rollCall !== 'not_called'),
    },
  };
}

const firstJoin = (presences: readonly PresenceRecord[]): number => Math.min(...presences.map((presence) => presence.joinedAt));

// ---- CSV --------------------------------------------------------------------------------------

const CSV_HEADERS = ['单位编号', '单位名称', '所属', '角色', '首次入会', '最后离会', '在会时长(分钟)', '出席状态', '点名结果'];
const STATUS_LABELS: Record<AttendanceStatus, string> = { present: '出席', late: '迟到', absent: '缺席' };
const ROLL_CALL_LABELS: Record<RollCallStatus, string> = { present: '已到', absent: '未到', not_called: '未点名', called: '已点名' };
const NO_ROLE_LABEL = '未邀请';

/** China Standard Time, UTC+8 all year (no daylight saving since 1991). */
const SHANGHAI_OFFSET_MS = 8 * 3600_000;

/** `YYYY-MM-DD HH:mm:ss` in Asia/Shanghai; '' for null. */
export function shanghaiTime(ms: number | null): string {
  if (ms === null) return '';
  return new Date(ms + SHANGHAI_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * One CSV cell: quoted when it holds a comma, quote or line break; a leading = + - @ (or tab, CR)
 * gets a ' so that spreadsheets show it as text instead of running it as a formula.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The report as a CSV for Excel: UTF-8 with BOM, CRLF line ends, Chinese headers and values. */
export function attendanceCsv(report: AttendanceReport): string {
  const lines = [CSV_HEADERS, ...report.rows.map((row) => [
    row.unitId,
    row.name,
    row.path,
    row.role === null ? NO_ROLE_LABEL : MEETING_ROLE_LABELS[row.role],
    shanghaiTime(row.firstJoinedAt),
    shanghaiTime(row.lastLeftAt),
    String(Math.round(row.presentMs / 60_000)),
    STATUS_LABELS[row.status],
    ROLL_CALL_LABELS[row.rollCall],
  ])];
  return `\uFEFF${lines.map((cells) => cells.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
