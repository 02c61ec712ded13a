import type { ParticipantInfo } from '../protocol.js';

/**
 * What the admin API may do to meetings that are running on this node. Implemented by the
 * signaling server (over its sessions); the API depends only on this interface.
 */
export interface LiveMeetings {
  /** Everyone now in the meeting (visible participants), or [] if it is not running here. */
  participants(meetingId: string): ParticipantInfo[];
  /**
   * Ends the meeting for everyone: each session is told (sessionEnded MEETING_ENDED) and closed,
   * the record goes to state 'ended'. `by` names who ended it, for the logs.
   */
  endMeeting(meetingId: string, by: string): void;
  /**
   * The admin API changed the stored meeting: if it runs here, its settings, main venue and
   * invitations (the roll-call order) apply at once, everyone gets controlChanged, and microphones
   * the new settings no longer allow are paused. `by` names who changed it.
   */
  meetingChanged(meetingId: string, by: string): Promise<void>;
  /** Removes one participant (sessionEnded REMOVED). False if no such participant is in the meeting. */
  removeParticipant(meetingId: string, participantId: string, by: string): boolean;
}
