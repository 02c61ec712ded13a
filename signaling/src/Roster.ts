import { ChatLog } from './ChatLog.js';
import type { Session } from './Session.js';

interface MeetingEntry {
  members: Map<string, Session>;
  chat: ChatLog;
}

/**
 * Who is in which meeting on this node (meetingId → participantId → session), and each meeting's
 * recent chat. A meeting's entry goes when its last member leaves.
 */
export class Roster {
  private readonly meetings = new Map<string, MeetingEntry>();

  add(meetingId: string, participantId: string, session: Session): void {
    let entry = this.meetings.get(meetingId);
    if (!entry) {
      entry = { members: new Map(), chat: new ChatLog() };
      this.meetings.set(meetingId, entry);
    }
    entry.members.set(participantId, session);
  }

  remove(meetingId: string, participantId: string): void {
    const entry = this.meetings.get(meetingId);
    if (!entry) return;
    entry.members.delete(participantId);
    if (entry.members.size === 0) this.meetings.delete(meetingId);
  }

  members(meetingId: string): Session[] {
    return [...(this.meetings.get(meetingId)?.members.values() ?? [])];
  }

  /** The meeting's chat log; only for a meeting with members (joined sessions). */
  chat(meetingId: string): ChatLog {
    const entry = this.meetings.get(meetingId);
    if (!entry) throw new Error(`no members in meeting ${meetingId}`);
    return entry.chat;
  }

  findByIdentity(meetingId: string, identity: string): Session | undefined {
    return this.members(meetingId).find((session) => session.identity === identity);
  }

  get meetingCount(): number {
    return this.meetings.size;
  }

  get participantCount(): number {
    let count = 0;
    for (const { members } of this.meetings.values()) count += members.size;
    return count;
  }
}
