// `window.__cityconf`: a stable hook for browser automation (end-to-end tests, monitoring probes).
import type { InboundStats } from './MediaConnection';
import type { Focus } from './meetingControl';
import type { EndReason, MeetingSession, Phase } from './MeetingSession';
import type { GridSize, Layout } from './subscriptionPlan';

/** What the meeting view shows, reported by it on every change. */
export interface ViewReport {
  layout: Layout;
  gridSize: GridSize;
  /** Gallery page, or the speaker strip's page (0-based). */
  page: number;
  pageCount: number;
  /** Speaker layout: whose tile is large ('<participantId>:camera' or ':screen'); null when it is this participant's or an absent unit's. */
  mainTile: string | null;
  /** The unit shown large and why (选看, roll call, broadcast, main venue, active speaker). */
  focus: Focus | null;
  /** The server's active speaker as the view knows it. */
  activeSpeakerId: string | null;
  /** Remote participants whose video (camera or screen) is on screen and subscribed. */
  videoVisible: string[];
}

let currentView: ViewReport | null = null;

export function reportView(view: ViewReport | null): void {
  currentView = view;
}

export interface AutomationState {
  phase: Phase;
  meetingId: string | null;
  selfId: string | null;
  participants: Array<{ id: string; identity: string; name: string }>;
  errorCode?: string;
  endReason: EndReason | null;
  role: string | null;
  /** The last chair notice shown (muted, floorGranted, rollCalled, …). */
  chairNotice: string | null;
  /** Whether the meeting is being recorded (录制中). */
  recording: boolean;
  /** The drone and camera feeds this client knows of (command centre, or the chair's last listFeeds). */
  feeds: Array<{ id: string; state: string; participantId: string; sharedInto: string[] }>;
  /** This participant's camera and microphone: on/off and the device in use. */
  local: { cameraOn: boolean; microphoneOn: boolean; cameraDeviceId: string | null; microphoneDeviceId: string | null };
}

export interface CityconfAutomation {
  state(): AutomationState;
  /** inbound-rtp counters per consumer (one entry per remote audio or video stream). */
  inboundStats(): Promise<InboundStats[]>;
  /** The meeting view's layout, page and visible videos; null outside a meeting. */
  view(): ViewReport | null;
  /** Closes hidden videos' consumers now rather than after a minute (memory checks, tests). */
  releaseHiddenVideo(): void;
}

declare global {
  interface Window {
    __cityconf?: CityconfAutomation;
  }
}

export function installAutomationHook(session: MeetingSession | null): void {
  window.__cityconf = {
    state() {
      if (!session) {
        const local = { cameraOn: false, microphoneOn: false, cameraDeviceId: null, microphoneDeviceId: null };
        return {
          phase: 'idle',
          meetingId: null,
          selfId: null,
          participants: [],
          local,
          endReason: null,
          role: null,
          chairNotice: null,
          recording: false,
          feeds: [],
        };
      }
      const state = session.state;
      return {
        phase: state.phase,
        meetingId: state.meetingId,
        selfId: state.self?.id ?? null,
        participants: state.participants.map(({ id, identity, name }) => ({ id, identity, name })),
        ...(state.error ? { errorCode: state.error.code } : {}),
        endReason: state.endReason,
        role: state.permissions?.role ?? null,
        chairNotice: state.chairNotice?.kind ?? null,
        recording: state.recording.active,
        feeds: state.feeds.map(({ id, state: feedState, participantId, sharedInto }) => ({ id, state: feedState, participantId, sharedInto })),
        local: {
          cameraOn: state.local.cameraOn,
          microphoneOn: state.local.microphoneOn,
          cameraDeviceId: state.local.cameraDeviceId,
          microphoneDeviceId: state.local.microphoneDeviceId,
        },
      };
    },
    inboundStats: () => session?.inboundStats() ?? Promise.resolve([]),
    view: () => currentView,
    releaseHiddenVideo: () => session?.releaseHiddenVideo(),
  };
}
