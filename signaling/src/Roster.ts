import type { Session } from './Session.js';

/** Who is in which meeting on this node: meetingId → participantId → session. */
export class Roster {
  private readonly meetings = new Map<string, Map<string, Session>>();

  add(meetingId: string, participantId: string, session: Session): void {
    let members = this.meetings.get(meetingId);
    if (!members) {
      members = new Map();
      this.meetings.set(meetingId, members);
    }
    members.set(participantId, session);
  }

  remove(meetingId: string, participantId: string): void {
    const members = this.meetings.get(meetingId);
    if (!members) return;
    members.delete(participantId);
    if (members.size === 0) this.meetings.delete(meetingId);
  }

  members(meetingId: string): Session[] {
    return [...(this.meetings.get(meetingId)?.values() ?? [])];
  }

  findByIdentity(meetingId: string, identity: string): Session | undefined {
    return this.members(meetingId).find((session) => session.identity === identity);
  }

  get meetingCount(): number {
    return this.meetings.size;
  }

  get participantCount(): number {
    let count = 0;
    for (const members of this.meetings.values()) count += members.size;
    return count;
  }
}
