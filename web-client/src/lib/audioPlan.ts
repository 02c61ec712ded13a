// Audio last-N on the receiving side: which participants' microphones to receive. In a 550-unit
// meeting a client receives the few the server heard most recently (audibleSpeakers) and the units
// that hold the floor by the chair's choice, not 549 audio streams. Pure: no DOM, no signaling.
import { isChairRole, type MeetingControlState, type MeetingRole } from '@cityconf/signaling/protocol';

/** Up to this many others, every microphone is received (nothing to save, no first-word clipping). */
export const RECEIVE_ALL_AUDIO_UP_TO = 6;

export interface AudioCandidate {
  id: string;
  unitId: string;
  role: MeetingRole;
}

export interface AudioContext {
  /** The server's audible set (most recent speakers). */
  audibleIds: readonly string[];
  control: MeetingControlState | null;
  /** How many other participants are in the meeting. */
  others: number;
}

/**
 * Whether to receive this participant's microphone: everyone in a small meeting; otherwise the
 * audible set, the chairs, the main venue, floor holders, the unit being called and the broadcast
 * venue.
 */
export function hearParticipant(participant: AudioCandidate, { audibleIds, control, others }: AudioContext): boolean {
  if (others <= RECEIVE_ALL_AUDIO_UP_TO) return true;
  if (audibleIds.includes(participant.id) || isChairRole(participant.role)) return true;
  if (!control) return false;
  const unit = participant.unitId;
  return (
    unit === control.mainVenueUnitId ||
    unit === control.broadcastUnitId ||
    unit === control.rollCall.currentUnitId ||
    control.floorUnitIds.includes(unit)
  );
}
