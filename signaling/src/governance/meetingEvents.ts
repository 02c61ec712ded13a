import type { ParticipantInfo, ProducerInfo } from '../protocol.js';
import type { MeetingRecord } from '../store/types.js';

/** One run of a meeting on this node: from its first participant to its last leaving. */
export interface MeetingRun {
  meeting: MeetingRecord;
  /** ms since the epoch. */
  startedAt: number;
  /** Visible participants now. */
  participants: number;
}

/** A participant as events report it: what it was when it joined, and when. */
export interface EventParticipant {
  info: ParticipantInfo;
  joinedAt: number;
}

/**
 * What happens in live meetings, for listeners outside the signaling core (webhooks). Called
 * synchronously; listeners must not throw or block.
 */
export interface MeetingEvents {
  meetingStarted(run: MeetingRun): void;
  meetingFinished(run: MeetingRun): void;
  participantJoined(run: MeetingRun, participant: EventParticipant): void;
  participantLeft(run: MeetingRun, participant: EventParticipant): void;
  trackPublished(run: MeetingRun, participant: EventParticipant, track: ProducerInfo): void;
  trackUnpublished(run: MeetingRun, participant: EventParticipant, track: ProducerInfo): void;
}
