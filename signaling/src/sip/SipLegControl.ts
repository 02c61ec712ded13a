// What the admin API and the chair console ask of the SIP side: the meeting's SIP legs (dialled in
// or out), dialling out to an upper-level MCU or a unit's room terminal, and hanging up.
import type { EventEmitter } from 'node:events';
import type { SipDialRequest, SipLegStatus } from '../protocol.js';

export interface SipLegControlEvents {
  /** A leg of this meeting changed state (not said for the bitrate figures, which move every 2 s). */
  legs: [meetingId: string];
}

export interface SipLegControl extends EventEmitter<SipLegControlEvents> {
  /** The meeting's legs, newest first: connected, calling, redialing, recently failed or ended. */
  legs(meetingId: string): SipLegStatus[];
  /**
   * Dials out of the meeting. Resolves with the leg in state `calling` (not once answered: follow
   * `legs` for the outcome). Throws ProtocolError NOT_FOUND (no such target / unit / meeting),
   * BAD_REQUEST (the unit has no SIP URI), INVALID_STATE (that target or terminal already has a
   * leg in this meeting), MEETING_ENDED.
   */
  dial(meetingId: string, request: SipDialRequest, by: string): Promise<SipLegStatus>;
  /** Hangs the leg up (and stops its redialing). False when the meeting has no such leg. */
  hangup(meetingId: string, legId: string): boolean;
}
