// /api/meetings/{id}/attendance: the attendance report (签到表), as JSON or as a CSV for Excel.
import { attendanceCsv, buildAttendanceReport, type AttendanceReport } from '../governance/attendanceReport.js';
import type { ApiContext } from './ApiDeps.js';
import { getMeeting } from './meetings.js';
import { attachment, json } from './reply.js';
import { route, type Route } from './Route.js';
import { idParams } from './schemas.js';
import { directoryOf } from './units.js';

export function attendanceRoutes(api: ApiContext): Route[] {
  const { store } = api;
  const report = (id: string, now: number): AttendanceReport =>
    buildAttendanceReport({
      meeting: getMeeting(store, id),
      units: directoryOf(store),
      presences: store.attendance.presences(id),
      rollCalls: store.attendance.rollCalls(id),
      now,
      lateGraceMs: api.lateGraceMs,
    });
  const common = { tag: 'attendance', access: 'meetingChair', params: idParams } as const;
  return [
    route({
      ...common,
      method: 'GET',
      path: '/api/meetings/{id}/attendance',
      summary: 'The attendance report: one row per unit with a place in the meeting, and per walk-in',
      responses: { 200: { description: 'rows and totals' } },
      handle: ({ params, now }) => json(report(params.id, now)),
    }),
    route({
      ...common,
      method: 'GET',
      path: '/api/meetings/{id}/attendance.csv',
      summary: 'The attendance report as CSV (UTF-8 with BOM, Chinese headers, Asia/Shanghai times)',
      responses: { 200: { description: '签到表', contentType: 'text/csv' } },
      handle: ({ params, now }) => attachment(attendanceCsv(report(params.id, now)), 'text/csv; charset=utf-8', `attendance-${params.id}.csv`),
    }),
  ];
}
