// A joined meeting's SessionState for component tests: nobody else in it, camera and microphone
// off, no chair state, no feeds, not recording, no SIP legs; tests override what they look at.
import type { SessionState } from '../src/lib/MeetingSession';

export function joinedState(changes: Partial<SessionState> = {}): SessionState {
  return {
    phase: 'joined',
    meetingId: 'city-weekly',
    self: null,
    permissions: null,
    participants: [],
    local: {
      cameraTrack: null,
      cameraOn: false,
      microphoneOn: false,
      mediaError: null,
      cameraDeviceId: null,
      microphoneDeviceId: null,
      lostDevice: null,
      screenTrack: null,
    },
    error: null,
    notice: null,
    endReason: null,
    activeSpeakerId: null,
    chat: [],
    unreadChat: 0,
    feeds: [],
    recording: { active: false, recordingId: null, since: null, by: null },
    sipLegs: [],
    serverUnreachable: false,
    meeting: null,
    control: null,
    rollCallResults: {},
    directory: null,
    chairNotice: null,
    ...changes,
  };
}
