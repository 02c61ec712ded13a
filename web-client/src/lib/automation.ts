// `window.__cityconf`: a stable hook for browser automation (end-to-end tests, monitoring probes).
import type { InboundStats } from './MediaConnection';
import type { MeetingSession, Phase } from './MeetingSession';

export interface AutomationState {
  phase: Phase;
  meetingId: string | null;
  selfId: string | null;
  participants: Array<{ id: string; identity: string; name: string }>;
  errorCode?: string;
}

export interface CityconfAutomation {
  state(): AutomationState;
  /** inbound-rtp counters per consumer (one entry per remote audio or video stream). */
  inboundStats(): Promise<InboundStats[]>;
}

declare global {
  interface Window {
    __cityconf?: CityconfAutomation;
  }
}

export function installAutomationHook(session: MeetingSession | null): void {
  window.__cityconf = {
    state() {
      if (!session) return { phase: 'idle', meetingId: null, selfId: null, participants: [] };
      const state = session.state;
      return {
        phase: state.phase,
        meetingId: state.meetingId,
        selfId: state.self?.id ?? null,
        participants: state.participants.map(({ id, identity, name }) => ({ id, identity, name })),
        ...(state.error ? { errorCode: state.error.code } : {}),
      };
    },
    inboundStats: () => session?.inboundStats() ?? Promise.resolve([]),
  };
}
