// What the chair's control of the meeting means for this client: whether its microphone may be
// on, which unit is shown large and why, and whether it gets the chair console. Pure functions
// over the server's MeetingControlState (the server enforces the same rules; the client follows
// them so that it never asks for what will be refused).
import {
  isChairRole,
  type MeetingAction,
  type MeetingControlState,
  type MeetingRole,
} from '@cityconf/signaling/protocol';

/** Why a unit is shown large because of the chair (or, for 选看, this chair's own choice). */
export type VenueReason = 'watch' | 'rollCall' | 'broadcast' | 'mainVenue';
export type FocusReason = VenueReason | 'activeSpeaker';

/** The unit shown large, and why. */
export type Focus = { unitId: string; reason: VenueReason } | { unitId: string; reason: 'activeSpeaker' };

/** What the focus rules need to know about a participant. */
export interface UnitMember {
  role: MeetingRole;
  unitId: string;
}

/** Mirrors the server: chairs always may; others while they hold the floor, or in free mode unless muted-all without self-unmute. */
export function micAllowed(control: MeetingControlState | null, self: UnitMember | null): boolean {
  if (!control || !self) return true;
  if (isChairRole(self.role) || control.floorUnitIds.includes(self.unitId)) return true;
  return control.floorMode === 'free' && control.allowSelfUnmute;
}

/** Controlled mode without the floor: the microphone button asks for the floor instead (申请发言). */
export function mustRequestFloor(control: MeetingControlState | null, self: UnitMember | null): boolean {
  return control?.floorMode === 'controlled' && !micAllowed(control, self);
}

export interface FocusInput {
  /** 选看: the unit this chair chose to watch (private to this client). */
  watchUnitId: string | null;
  control: MeetingControlState | null;
  /** Units with someone in the meeting now (including this participant). */
  onlineUnitIds: ReadonlySet<string>;
  /** The unit of the active speaker the view follows, if any. */
  activeSpeakerUnitId: string | null;
}

/** 选看 ?? the unit being called ?? the broadcast unit ?? the main venue (when online) ?? the active speaker. */
export function focusOf({ watchUnitId, control, onlineUnitIds, activeSpeakerUnitId }: FocusInput): Focus | null {
  if (watchUnitId) return { unitId: watchUnitId, reason: 'watch' };
  if (control?.rollCall.currentUnitId) return { unitId: control.rollCall.currentUnitId, reason: 'rollCall' };
  if (control?.broadcastUnitId) return { unitId: control.broadcastUnitId, reason: 'broadcast' };
  if (control?.mainVenueUnitId && onlineUnitIds.has(control.mainVenueUnitId)) return { unitId: control.mainVenueUnitId, reason: 'mainVenue' };
  return activeSpeakerUnitId ? { unitId: activeSpeakerUnitId, reason: 'activeSpeaker' } : null;
}

/** Roll call, broadcast and 选看 are meant to be seen large: they switch the gallery to the speaker layout while they last. */
export function forcesSpeakerLayout(focus: Focus | null): boolean {
  return focus !== null && (focus.reason === 'rollCall' || focus.reason === 'broadcast' || focus.reason === 'watch');
}

/** The actions that make up the chair console; having any of them shows it. */
const CONSOLE_ACTIONS: readonly MeetingAction[] = ['muteAll', 'setFloorMode', 'lockMeeting', 'grantFloor', 'rollCall', 'broadcastVenue', 'endMeeting'];

export function hasChairConsole(actions: readonly MeetingAction[] | undefined): boolean {
  return actions?.some((action) => CONSOLE_ACTIONS.includes(action)) ?? false;
}

/** A controlChanged copy replaces ours unless it is older (events and the join reply can cross). */
export function newerControl(current: MeetingControlState | null, incoming: MeetingControlState): MeetingControlState {
  return current && incoming.version < current.version ? current : incoming;
}

/** A unit's name: from the directory, else from someone in the meeting for it, else its id. */
export function unitNamer(
  directory: { units: ReadonlyArray<{ id: string; name: string }> } | null,
  members: ReadonlyArray<{ unitId: string; name: string }>,
): (unitId: string) => string {
  const names = new Map<string, string>();
  for (const member of members) if (!names.has(member.unitId)) names.set(member.unitId, member.name);
  for (const unit of directory?.units ?? []) names.set(unit.id, unit.name);
  return (unitId) => names.get(unitId) ?? unitId;
}
