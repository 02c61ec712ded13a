import { ProtocolError } from './errors.js';
import { LiveMeeting, type LiveMeetingDeps, type Member } from './governance/LiveMeeting.js';
import type { LiveMeetings } from './governance/LiveMeetings.js';
import { adHocMeeting, newMeetingNumber } from './governance/meetingRecords.js';
import { COMMAND_CENTRE_MEETING_ID, type ParticipantInfo } from './protocol.js';

/**
 * The meetings running on this node (meetingId → LiveMeeting) and who is in each. A meeting's
 * entry goes when its last member leaves; its record, attendance and chat stay in the store.
 */
export class Roster implements LiveMeetings {
  private readonly meetings = new Map<string, LiveMeeting>();
  private readonly now: () => number;

  constructor(private readonly deps: LiveMeetingDeps) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * The running meeting to join: an existing one, or the stored record brought live (a scheduled
   * meeting starts with its first participant), or a new ad-hoc meeting. MEETING_ENDED if ended.
   */
  enter(meetingId: string): LiveMeeting {
    const running = this.meetings.get(meetingId);
    if (running && running.record.state !== 'ended') {
      running.refresh(); // an operator may have changed it (title, invitations) since it started
      return running;
    }
    const { meetings } = this.deps.store;
    let record = meetings.get(meetingId);
    if (!record) {
      record = adHocMeeting(meetingId, newMeetingNumber(meetings), this.now());
      meetings.create(record);
      this.deps.logger.info({ meetingId, number: record.number }, 'ad-hoc meeting created');
    }
    if (record.state === 'ended') {
      throw new ProtocolError('MEETING_ENDED', `meeting ${meetingId} has ended; ask the organiser for a new meeting`);
    }
    if (record.state === 'scheduled') {
      record = meetings.update(meetingId, { state: 'live', startedAt: this.now() }) ?? record;
      this.deps.logger.info({ meetingId }, 'scheduled meeting started');
    }
    const live = new LiveMeeting(record, this.deps);
    this.meetings.set(meetingId, live);
    return live;
  }

  get(meetingId: string): LiveMeeting | undefined {
    return this.meetings.get(meetingId);
  }

  /**
   * Removes a member; the meeting's entry goes with its last member. Feeds shared into a meeting
   * leave with its last person or terminal (the command centre keeps its feeds).
   */
  remove(meetingId: string, participantId: string): void {
    const live = this.meetings.get(meetingId);
    if (!live) return;
    live.remove(participantId);
    if (!live.hasUnits && live.id !== COMMAND_CENTRE_MEETING_ID) {
      for (const member of [...live.members.values()]) member.end('MEETING_ENDED', 'everyone has left the meeting');
    }
    this.releaseIfEmpty(live);
  }

  /** Drops a meeting nobody is in (e.g. a join that failed after enter). */
  releaseIfEmpty(live: LiveMeeting): void {
    if (live.members.size === 0 && this.meetings.get(live.id) === live) {
      this.meetings.delete(live.id);
      live.close();
    }
  }

  members(meetingId: string): Member[] {
    return [...(this.meetings.get(meetingId)?.members.values() ?? [])];
  }

  findByUnit(meetingId: string, unitId: string): Member | undefined {
    return this.meetings.get(meetingId)?.memberOfUnit(unitId);
  }

  get meetingCount(): number {
    return this.meetings.size;
  }

  get participantCount(): number {
    let count = 0;
    for (const live of this.meetings.values()) count += live.members.size;
    return count;
  }

  // ---- LiveMeetings (the admin API's view) ------------------------------------------------------

  participants(meetingId: string): ParticipantInfo[] {
    return this.meetings.get(meetingId)?.visibleMembers().map((member) => member.info()) ?? [];
  }

  endMeeting(meetingId: string, by: string): void {
    const live = this.meetings.get(meetingId);
    if (live) {
      live.finish(by);
      return;
    }
    const record = this.deps.store.meetings.get(meetingId);
    if (record && record.state !== 'ended') this.deps.store.meetings.update(meetingId, { state: 'ended', endedAt: this.now() });
  }

  async meetingChanged(meetingId: string, by: string): Promise<void> {
    await this.meetings.get(meetingId)?.operatorChanged(by);
  }

  removeParticipant(meetingId: string, participantId: string, by: string): boolean {
    const member = this.meetings.get(meetingId)?.members.get(participantId);
    if (!member || member.hidden) return false;
    member.end('REMOVED', `${by} removed you from the meeting`);
    return true;
  }
}
