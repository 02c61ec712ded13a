// Who may do what in a meeting. The role table itself lives in protocol.ts (the web client shows
// buttons from it); the server checks every chair control and admin call against it.
import { isChairRole, MEETING_ROLES, type MeetingRole } from '../protocol.js';
import type { AccountRole, MeetingRecord } from '../store/types.js';

export { can, isChairRole, MEETING_ACTIONS, MEETING_ROLES, ROLE_ACTIONS } from '../protocol.js';
export type { MeetingAction, MeetingRole } from '../protocol.js';

export const isMeetingRole = (value: unknown): value is MeetingRole =>
  typeof value === 'string' && (MEETING_ROLES as readonly string[]).includes(value);

/** Chinese labels, for logs, CSV exports and error messages. */
export const MEETING_ROLE_LABELS: Record<MeetingRole, string> = {
  operator: '管理员',
  chair: '主持人',
  cochair: '副主持人',
  participant: '参会单位',
  observer: '列席',
  terminal: '会议室终端',
};


/**
 * The role a unit's account gets in a meeting, or null if the unit has no place in it (not
 * invited, not an observer, not chairing). Operators always get 'operator'.
 */
export function meetingRoleFor(meeting: MeetingRecord, account: { role: AccountRole; unitId: string | null }): MeetingRole | null {
  if (account.role === 'operator') return 'operator';
  const unitId = account.unitId;
  if (!unitId) return null;
  if (meeting.chairUnitId === unitId) return 'chair';
  if (meeting.coChairUnitIds.includes(unitId)) return 'cochair';
  if (meeting.observerUnitIds.includes(unitId)) return 'observer';
  if (meeting.invitedUnitIds.includes(unitId) || meeting.mainVenueUnitId === unitId) {
    return account.role === 'terminal' ? 'terminal' : 'participant';
  }
  return null;
}
