import { describe, expect, it } from 'vitest';
import { UnitTree } from '../src/directory/unitTree.js';
import { adHocMeeting } from '../src/governance/meetingRecords.js';
import {
  attendanceCsv,
  buildAttendanceReport,
  csvCell,
  mergedDuration,
  shanghaiTime,
  unitGroupPath,
} from '../src/governance/attendanceReport.js';
import type { MeetingRecord, PresenceRecord, RollCallRecord, Unit } from '../src/store/types.js';

const MINUTE = 60_000;
/** 2026-03-01 09:00:00 in Asia/Shanghai. */
const START = Date.UTC(2026, 2, 1, 1, 0, 0);
const GRACE = 5 * MINUTE;

const unit = (id: string, name: string, level: Unit['level'], parentId: string | null): Unit => ({
  id,
  name,
  level,
  parentId,
  sortOrder: 0,
  sipUri: null,
});

const units = new UnitTree([
  unit('city', '江州市', 'city', null),
  unit('county-a', '甲县', 'county', 'city'),
  unit('town-1', '甲县城关镇', 'town', 'county-a'),
  unit('town-2', '甲县新安镇', 'town', 'county-a'),
  unit('dept-yj', '市应急管理局', 'department', 'city'),
]);

const meeting: MeetingRecord = {
  ...adHocMeeting('m1', 12345678, START - 60 * MINUTE),
  title: '防汛调度会',
  adHoc: false,
  state: 'live',
  startsAt: START,
  startedAt: START - 2 * MINUTE,
  chairUnitId: 'city',
  invitedUnitIds: ['city', 'county-a', 'town-1', 'town-2'],
  observerUnitIds: ['dept-yj'],
};

let nextId = 1;
const presence = (unitId: string, name: string, joinedAt: number, leftAt: number | null): PresenceRecord => ({
  id: nextId++,
  meetingId: 'm1',
  unitId,
  name,
  joinedAt,
  leftAt,
});

const rollCall = (unitId: string, result: RollCallRecord['result']): RollCallRecord => ({
  meetingId: 'm1',
  unitId,
  calledAt: START + 30 * MINUTE,
  result,
  markedAt: result ? START + 31 * MINUTE : null,
  markedBy: result ? 'city' : null,
});

const NOW = START + 60 * MINUTE;

function report() {
  return buildAttendanceReport({
    meeting,
    units,
    now: NOW,
    lateGraceMs: GRACE,
    presences: [
      presence('city', '江州市', START - MINUTE, null),
      // Two devices of one county, overlapping: 09:00–09:10 and 09:05–09:20 are 20 minutes, not 25.
      presence('county-a', '甲县', START, START + 10 * MINUTE),
      presence('county-a', '甲县', START + 5 * MINUTE, START + 20 * MINUTE),
      presence('town-1', '甲县城关镇', START + 10 * MINUTE, START + 40 * MINUTE),
      presence('dept-yj', '市应急管理局', START + 5 * MINUTE, START + 6 * MINUTE),
      presence('guest', '=HYPERLINK("http://x")', START + 2 * MINUTE, START + 3 * MINUTE),
      presence('visitor', '张三, 李四', START + MINUTE, START + 2 * MINUTE),
    ],
    rollCalls: [rollCall('county-a', 'present'), rollCall('town-1', null), rollCall('town-2', 'absent')],
  });
}

describe('buildAttendanceReport', () => {
  it('has a row per unit with a place, in invitation order, then walk-ins by first join', () => {
    expect(report().rows.map((row) => [row.unitId, row.role])).toEqual([
      ['city', 'chair'],
      ['county-a', 'participant'],
      ['town-1', 'participant'],
      ['town-2', 'participant'],
      ['dept-yj', 'observer'],
      ['visitor', null],
      ['guest', null],
    ]);
  });

  it('merges overlapping presences, runs open ones until now, and tells present, late and absent apart', () => {
    const rows = Object.fromEntries(report().rows.map((row) => [row.unitId, row]));
    expect(rows.city).toMatchObject({ status: 'present', presentMs: 61 * MINUTE, firstJoinedAt: START - MINUTE, lastLeftAt: null });
    expect(rows['county-a']).toMatchObject({ status: 'present', presentMs: 20 * MINUTE, lastLeftAt: START + 20 * MINUTE });
    expect(rows['town-1']).toMatchObject({ status: 'late', presentMs: 30 * MINUTE, path: '甲县' });
    expect(rows['town-2']).toMatchObject({ status: 'absent', presentMs: 0, firstJoinedAt: null, lastLeftAt: null });
    expect(rows['dept-yj']).toMatchObject({ status: 'present', path: '' });
    expect(rows.guest).toMatchObject({ name: '=HYPERLINK("http://x")', path: '', role: null });
  });

  it('reads the roll call: marked present or absent, called without a mark, or never called', () => {
    expect(report().rows.map((row) => row.rollCall)).toEqual(['not_called', 'present', 'called', 'absent', 'not_called', 'not_called', 'not_called']);
  });

  it('counts the totals', () => {
    expect(report().totals).toEqual({ invited: 5, present: 5, late: 1, absent: 1, rollCalled: 3 });
  });

  it('counts late from the scheduled start plus the grace, or from the actual start of an ad-hoc meeting', () => {
    const adHoc = { ...meeting, startsAt: null, startedAt: START };
    const onTime = presence('county-a', '甲县', START + GRACE, null);
    const late = presence('town-1', '甲县城关镇', START + GRACE + 1, null);
    const rows = buildAttendanceReport({ meeting: adHoc, units, presences: [onTime, late], rollCalls: [], now: NOW, lateGraceMs: GRACE }).rows;
    expect(rows.find((row) => row.unitId === 'county-a')?.status).toBe('present');
    expect(rows.find((row) => row.unitId === 'town-1')?.status).toBe('late');
  });
});

describe('mergedDuration', () => {
  it('counts nested, touching and disjoint intervals once each', () => {
    const at = (from: number, to: number | null) => presence('u', 'u', from, to);
    expect(mergedDuration([at(0, 100), at(10, 20), at(100, 150), at(200, 210)], 1000)).toBe(160);
    expect(mergedDuration([at(50, null), at(0, 60)], 100)).toBe(100);
    expect(mergedDuration([], 100)).toBe(0);
  });
});

describe('unitGroupPath', () => {
  it('is the chain above the unit without the city root', () => {
    expect(unitGroupPath(units, 'town-1')).toBe('甲县');
    expect(unitGroupPath(units, 'county-a')).toBe('');
    expect(unitGroupPath(units, 'city')).toBe('');
    expect(unitGroupPath(units, 'nobody')).toBe('');
  });
});

describe('attendanceCsv', () => {
  it('is UTF-8 CSV with BOM, CRLF, Chinese headers and values, Shanghai times and formula-safe cells', () => {
    expect(attendanceCsv(report())).toBe(
      '\uFEFF' +
        [
          '单位编号,单位名称,所属,角色,首次入会,最后离会,在会时长(分钟),出席状态,点名结果',
          'city,江州市,,主持人,2026-03-01 08:59:00,,61,出席,未点名',
          'county-a,甲县,,参会单位,2026-03-01 09:00:00,2026-03-01 09:20:00,20,出席,已到',
          'town-1,甲县城关镇,甲县,参会单位,2026-03-01 09:10:00,2026-03-01 09:40:00,30,迟到,已点名',
          'town-2,甲县新安镇,甲县,参会单位,,,0,缺席,未到',
          'dept-yj,市应急管理局,,列席,2026-03-01 09:05:00,2026-03-01 09:06:00,1,出席,未点名',
          'visitor,"张三, 李四",,未邀请,2026-03-01 09:01:00,2026-03-01 09:02:00,1,出席,未点名',
          `guest,"'=HYPERLINK(""http://x"")",,未邀请,2026-03-01 09:02:00,2026-03-01 09:03:00,1,出席,未点名`,
        ].join('\r\n') +
        '\r\n',
    );
  });

  it('neutralises every formula lead character', () => {
    expect(['=1+2', '+1', '-1', '@SUM(A1)', '\tx', 'ok'].map(csvCell)).toEqual(["'=1+2", "'+1", "'-1", "'@SUM(A1)", "'\tx", 'ok']);
  });

  it('writes Asia/Shanghai wall-clock time', () => {
    expect(shanghaiTime(Date.UTC(2025, 11, 31, 16, 30, 5))).toBe('2026-01-01 00:30:05');
    expect(shanghaiTime(null)).toBe('');
  });
});
