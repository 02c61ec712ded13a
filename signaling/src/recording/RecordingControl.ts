// What a meeting's sessions need from the recorder (implemented by MeetingRecorder).
import type { RecordingState } from '../protocol.js';

export interface RecordingControl {
  /** The meeting's recording state now (inactive when nothing records it). */
  state(meetingId: string): RecordingState;
  /** Starts recording the meeting; resolves with the recording id. INVALID_STATE if it records already. */
  start(meetingId: string, by: string): Promise<string>;
  /** Stops the meeting's recording (the composite is made afterwards). NOT_FOUND if none runs. */
  stop(meetingId: string, by: string): Promise<void>;
}

export const NOT_RECORDING: RecordingState = { active: false, recordingId: null, since: null, by: null };
