// The chair-controlled side of one meeting as this client knows it: the meeting's summary, the
// control state (floor, roll call, broadcast), roll-call results per unit, the unit directory,
// and the last chair notice to show. Fed by the join reply and the server's events; no media.
import type {
  ChairNoticeKind,
  JoinReply,
  MeetingControlState,
  MeetingDirectory,
  MeetingSummary,
  RollCallStatus,
} from '@cityconf/signaling/protocol';
import { newerControl } from './meetingControl';

/**
 * A notice to show: one from the chair, `floorRequired` when unmuting was refused (raise a hand),
 * or the recording stopped by itself (disk full, recorder failed).
 */
export interface ChairNotice {
  kind: ChairNoticeKind | 'floorRequired' | 'recordingDiskFull' | 'recordingFailed';
  /** The chair's name ('' for floorRequired and the recording notices). */
  by: string;
  /** Grows with every notice, so that the same notice twice shows twice. */
  seq: number;
}

export interface GovernanceState {
  meeting: MeetingSummary | null;
  control: MeetingControlState | null;
  rollCallResults: Readonly<Record<string, RollCallStatus>>;
  /** null for ad-hoc meetings. */
  directory: MeetingDirectory | null;
  chairNotice: ChairNotice | null;
}

export class MeetingGovernance {
  private state: GovernanceState = { meeting: null, control: null, rollCallResults: {}, directory: null, chairNotice: null };
  private noticeSeq = 0;

  get snapshot(): GovernanceState {
    return this.state;
  }

  get control(): MeetingControlState | null {
    return this.state.control;
  }

  applyJoinReply(reply: Pick<JoinReply, 'meeting' | 'control' | 'rollCallResults' | 'directory'>): void {
    this.state = {
      ...this.state,
      meeting: reply.meeting,
      control: reply.control,
      rollCallResults: { ...reply.rollCallResults },
      directory: reply.directory,
    };
  }

  /** Returns false when `control` is older than the copy held (and was dropped). */
  applyControl(control: MeetingControlState): boolean {
    const next = newerControl(this.state.control, control);
    if (next === this.state.control) return false;
    this.state = { ...this.state, control: next };
    return true;
  }

  applyRollCallStatus(unitId: string, status: RollCallStatus): void {
    this.state = { ...this.state, rollCallResults: { ...this.state.rollCallResults, [unitId]: status } };
  }

  notify(kind: ChairNotice['kind'], by: string): void {
    this.state = { ...this.state, chairNotice: { kind, by, seq: ++this.noticeSeq } };
  }

  /** Dismisses the notice `seq` (a newer one stays). */
  dismissNotice(seq: number): boolean {
    if (this.state.chairNotice?.seq !== seq) return false;
    this.state = { ...this.state, chairNotice: null };
    return true;
  }
}
