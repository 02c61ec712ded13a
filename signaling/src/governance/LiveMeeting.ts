// One meeting running on this node: its record, who is in it, and the chair's controls over it.
// Every chair action is authorised here against the actor's role, applied to the SFU through the
// participants' sessions, persisted, and announced to the meeting.
import { ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  can,
  CHAT_HISTORY_LENGTH,
  isChairRole,
  type ChairNoticeKind,
  type ChatMessage,
  type FloorMode,
  type MeetingAction,
  type MeetingDirectory,
  type MeetingSummary,
  type ParticipantInfo,
  type ProducerInfo,
  type RollCallResult,
  type ServerEventName,
  type ServerEvents,
} from '../protocol.js';
import { ROSTER_BATCH_HZ, RosterBatcher } from '../RosterBatcher.js';
import { VideoDemand } from '../VideoDemand.js';
import type { MeetingRecord, Store } from '../store/types.js';
import { MeetingControl } from './MeetingControl.js';
import type { EventParticipant, MeetingEvents, MeetingRun } from './meetingEvents.js';
import { meetingDirectory, meetingUnitIds } from './meetingDirectory.js';
import type { MeetingRole } from './roles.js';

/** What LiveMeeting needs from a participant's session (implemented by Session). */
export interface Member {
  /** unit: a person or terminal of a unit (a Session); feed: a drone/camera feed (MediaMember). */
  readonly kind: 'unit' | 'feed';
  readonly participantId: string;
  readonly unitId: string;
  readonly role: MeetingRole;
  readonly name: string;
  readonly hidden: boolean;
  info(): ParticipantInfo;
  /** Pauses the participant's producer of this source on the server, telling everyone. No-op if none. */
  pauseSource(source: 'microphone' | 'camera'): Promise<boolean>;
  notice(kind: ChairNoticeKind, by: string): void;
  /** Tells the participant whether anyone shows its video producer. */
  videoDemand(producerId: string, wanted: boolean): void;
  end(reason: ServerEvents['sessionEnded']['reason'], message: string): void;
}

/** Who acts: the member's identity as the permission checks and logs need it. */
export interface Actor {
  name: string;
  role: MeetingRole;
}

export interface LiveMeetingDeps {
  store: Store;
  logger: Logger;
  /** Sends an event to everyone in the meeting (all sessions, including hidden ones). */
  emitToMeeting: <E extends ServerEventName>(meetingId: string, event: E, payload: ServerEvents[E]) => void;
  /** Listeners for meeting and participant events (webhooks). */
  events?: MeetingEvents;
  /** How long an unwatched video keeps being sent (default VIDEO_IDLE_MS; tests shorten it). */
  videoIdleMs?: number;
  now?: () => number;
}

export class LiveMeeting {
  readonly control: MeetingControl;
  /** Roster and producer changes go out through this, batched. */
  readonly batcher: RosterBatcher;
  /** Who watches each camera and screen: unwatched senders are told to stop sending. */
  readonly videoDemand: VideoDemand;
  readonly members = new Map<string, Member>();
  private readonly presences = new Map<string, number>();
  /** Visible members as they joined (events report them after they are gone). */
  private readonly joinedAs = new Map<string, EventParticipant>();
  private controlTimer: ReturnType<typeof setTimeout> | null = null;
  private controlSentAt = 0;
  /** Set when the first visible participant arrives: this run of the meeting has started. */
  private startedAt: number | null = null;
  /** Units that have been in this run of the meeting: they may rejoin a locked meeting. */
  private readonly seenUnits = new Set<string>();
  /** When each unit was first called (roll-call records keep it across marks). */
  private readonly calledAt = new Map<string, number>();
  private directoryCache?: MeetingDirectory | null;
  private readonly now: () => number;

  constructor(
    public record: MeetingRecord,
    private readonly deps: LiveMeetingDeps,
  ) {
    this.now = deps.now ?? Date.now;
    this.batcher = new RosterBatcher((payload) => deps.emitToMeeting(record.id, 'rosterBatch', payload));
    this.videoDemand = new VideoDemand((producer, wanted) => {
      const participantId = (producer.appData as { participantId?: string }).participantId;
      if (participantId) this.members.get(participantId)?.videoDemand(producer.id, wanted);
    }, deps.videoIdleMs);
    this.control = new MeetingControl({
      settings: record.settings,
      mainVenueUnitId: record.mainVenueUnitId,
      rollCallOrder: record.invitedUnitIds,
      rollCalls: deps.store.attendance.rollCalls(record.id),
    });
    for (const presence of deps.store.attendance.presences(record.id)) this.seenUnits.add(presence.unitId);
    for (const call of deps.store.attendance.rollCalls(record.id)) this.calledAt.set(call.unitId, call.calledAt);
  }

  get id(): string {
    return this.record.id;
  }

  /**
   * Reloads the record (the admin API may have changed it): the directory follows, and so do the
   * control state (settings, main venue, roll-call order of the invited units) and everyone's copy.
   */
  refresh(): void {
    const stored = this.deps.store.meetings.get(this.id);
    if (!stored) return;
    const previous = this.record;
    this.record = stored;
    if (meetingUnitIds(stored).join() !== meetingUnitIds(previous).join()) this.directoryCache = undefined; // rebuilt on the next join
    // An ad-hoc meeting's order is built by joins: only an invitation replaces it.
    const invitationChanged = stored.invitedUnitIds.length > 0 && stored.invitedUnitIds.join() !== previous.invitedUnitIds.join();
    const changed = this.control.update({
      settings: stored.settings,
      mainVenueUnitId: stored.mainVenueUnitId,
      rollCallOrder: invitationChanged ? stored.invitedUnitIds : undefined,
    });
    if (changed) this.announceControl();
  }

  /** The operator changed the stored meeting: applies it live and pauses microphones no longer allowed. */
  async operatorChanged(by: string): Promise<void> {
    this.refresh();
    await this.enforceMicPolicy(by);
  }

  summary(): MeetingSummary {
    const { id, number, title, state, startsAt, chairUnitId } = this.record;
    return { id, number, title, state, startsAt, chairUnitId };
  }

  /** The invited units and their ancestors for the roster; null for ad-hoc meetings. */
  directory(): MeetingDirectory | null {
    if (this.directoryCache === undefined) this.directoryCache = meetingDirectory(this.record, this.deps.store.units.list());
    return this.directoryCache;
  }

  /** Throws if `role` may not enter now (locked meeting). */
  admit(unitId: string, role: MeetingRole): void {
    if (this.control.locked && !can(role, 'joinLocked') && !this.seenUnits.has(unitId)) {
      throw new ProtocolError('MEETING_LOCKED', 'the chair has locked this meeting; ask the chair to unlock it');
    }
  }

  add(member: Member): void {
    this.members.set(member.participantId, member);
    if (member.hidden) return;
    const now = this.now();
    if (member.kind === 'unit') {
      this.seenUnits.add(member.unitId);
      this.presences.set(member.participantId, this.deps.store.attendance.openPresence(this.id, member.unitId, member.name, now));
    }
    const joined: EventParticipant = { info: member.info(), joinedAt: now };
    this.joinedAs.set(member.participantId, joined);
    if (this.startedAt === null) {
      this.startedAt = now;
      this.deps.events?.meetingStarted(this.run());
    }
    this.deps.events?.participantJoined(this.run(), joined);
    if (
      member.kind === 'unit' &&
      this.record.invitedUnitIds.length === 0 &&
      !isChairRole(member.role) &&
      this.control.addToRollCallOrder(member.unitId)
    ) {
      this.announceControl();
    }
  }

  remove(participantId: string): void {
    const member = this.members.get(participantId);
    if (!member) return;
    this.members.delete(participantId);
    const presenceId = this.presences.get(participantId);
    if (presenceId !== undefined) {
      this.presences.delete(participantId);
      this.deps.store.attendance.closePresence(presenceId, this.now());
    }
    const joined = this.joinedAs.get(participantId);
    if (joined) {
      this.joinedAs.delete(participantId);
      this.deps.events?.participantLeft(this.run(), joined);
    }
    if (!member.hidden && !this.memberOfUnit(member.unitId) && this.control.participantLeft(member.unitId)) this.announceControl();
  }

  member(participantId: string): Member {
    const member = this.members.get(participantId);
    if (!member || member.hidden) throw new ProtocolError('NOT_FOUND', `no participant ${participantId} in this meeting`);
    return member;
  }

  /** The visible member speaking for a unit, if the unit is in the meeting. */
  memberOfUnit(unitId: string): Member | undefined {
    for (const member of this.members.values()) if (!member.hidden && member.unitId === unitId) return member;
    return undefined;
  }

  /** Whether a person or terminal is in the meeting (feeds alone do not keep a meeting going). */
  get hasUnits(): boolean {
    for (const member of this.members.values()) if (member.kind === 'unit') return true;
    return false;
  }

  visibleMembers(): Member[] {
    return [...this.members.values()].filter((member) => !member.hidden);
  }

  /** This run is over (its last member left, or it ended): tells the listeners. */
  close(): void {
    this.batcher.close();
    this.videoDemand.close();
    if (this.controlTimer) clearTimeout(this.controlTimer);
    this.controlTimer = null;
    if (this.startedAt !== null) this.deps.events?.meetingFinished(this.run());
    this.startedAt = null;
  }

  trackPublished(member: Member, track: ProducerInfo): void {
    const joined = this.joinedAs.get(member.participantId);
    if (joined) this.deps.events?.trackPublished(this.run(), joined, track);
  }

  trackUnpublished(member: Member, track: ProducerInfo): void {
    const joined = this.joinedAs.get(member.participantId);
    if (joined) this.deps.events?.trackUnpublished(this.run(), joined, track);
  }

  private run(): MeetingRun {
    return { meeting: this.record, startedAt: this.startedAt ?? this.now(), participants: this.joinedAs.size };
  }

  // ---- chat -------------------------------------------------------------------------------------

  appendChat(message: ChatMessage): void {
    this.deps.store.chat.append(this.id, message);
  }

  chatHistory(): ChatMessage[] {
    return this.deps.store.chat.recent(this.id, CHAT_HISTORY_LENGTH);
  }

  // ---- participants' own requests ---------------------------------------------------------------

  micAllowed(member: Pick<Member, 'unitId' | 'role'>): boolean {
    return this.control.micAllowed(member.unitId, member.role);
  }

  setHandRaised(member: Member, raised: boolean): void {
    const changed = raised
      ? this.control.raiseHand({ unitId: member.unitId, participantId: member.participantId, name: member.name, raisedAt: this.now() })
      : this.control.lowerHand(member.unitId);
    if (changed) this.announceControl();
  }

  handRaised(unitId: string): boolean {
    return this.control.handRaised(unitId);
  }

  // ---- chair console ----------------------------------------------------------------------------

  async muteAll(actor: Actor, allowSelfUnmute: boolean): Promise<void> {
    this.authorize(actor, 'muteAll');
    this.control.muteAll(allowSelfUnmute);
    this.persistSettings();
    this.announceControl();
    await Promise.all(
      this.visibleMembers()
        .filter((member) => !isChairRole(member.role) && !this.control.hasFloor(member.unitId))
        .map(async (member) => {
          if (await member.pauseSource('microphone')) member.notice('muted', actor.name);
        }),
    );
  }

  async setAllowSelfUnmute(actor: Actor, allowed: boolean): Promise<void> {
    this.authorize(actor, 'setAllowSelfUnmute');
    if (this.control.setAllowSelfUnmute(allowed)) this.settingsChanged();
    await this.enforceMicPolicy(actor.name);
  }

  async setFloorMode(actor: Actor, mode: FloorMode): Promise<void> {
    this.authorize(actor, 'setFloorMode');
    if (this.control.setFloorMode(mode)) this.settingsChanged();
    await this.enforceMicPolicy(actor.name);
  }

  setLocked(actor: Actor, locked: boolean): void {
    this.authorize(actor, 'lockMeeting');
    if (this.control.setLocked(locked)) this.settingsChanged();
  }

  async muteParticipant(actor: Actor, participantId: string, source: 'microphone' | 'camera'): Promise<void> {
    this.authorize(actor, 'muteParticipant');
    const member = this.member(participantId);
    if (await member.pauseSource(source)) member.notice(source === 'microphone' ? 'muted' : 'cameraOff', actor.name);
  }

  requestUnmute(actor: Actor, participantId: string): void {
    this.authorize(actor, 'requestUnmute');
    const member = this.member(participantId);
    if (!this.micAllowed(member)) {
      throw new ProtocolError('INVALID_STATE', `${member.name} does not have the floor: grant it the floor instead`);
    }
    member.notice('unmuteRequested', actor.name);
  }

  removeParticipant(actor: Actor, participantId: string): void {
    this.authorize(actor, 'removeParticipant');
    const member = this.member(participantId);
    if (member.role === 'chair' || member.role === 'operator') {
      throw new ProtocolError('FORBIDDEN', 'the chair and operators cannot be removed from a meeting');
    }
    this.deps.logger.info({ meetingId: this.id, participantId, by: actor.name }, 'participant removed by the chair');
    member.end('REMOVED', `${actor.name} removed you from the meeting`);
  }

  /** Ends the meeting for everyone: state ended, every session told and closed. */
  end(actor: Actor): void {
    this.authorize(actor, 'endMeeting');
    this.finish(actor.name);
  }

  /** Ends the meeting without a permission check (the admin API authorised the operator). */
  finish(by: string): void {
    if (this.record.state !== 'ended') {
      this.record = this.deps.store.meetings.update(this.id, { state: 'ended', endedAt: this.now() }) ?? this.record;
    }
    this.deps.logger.info({ meetingId: this.id, by }, 'meeting ended');
    for (const member of [...this.members.values()]) member.end('MEETING_ENDED', `${by} ended the meeting`);
  }

  async grantFloor(actor: Actor, unitId: string): Promise<void> {
    this.authorize(actor, 'grantFloor');
    this.requireKnownUnit(unitId);
    if (!this.control.grantFloor(unitId)) return;
    this.announceControl();
    this.memberOfUnit(unitId)?.notice('floorGranted', actor.name);
  }

  denyFloor(actor: Actor, unitId: string): void {
    this.authorize(actor, 'grantFloor');
    this.control.denyFloor(unitId);
    this.announceControl();
    this.memberOfUnit(unitId)?.notice('floorDenied', actor.name);
  }

  async revokeFloor(actor: Actor, unitId: string): Promise<void> {
    this.authorize(actor, 'grantFloor');
    if (!this.control.revokeFloor(unitId)) return;
    this.announceControl();
    await this.silenceIfHeld(unitId, 'floorRevoked', actor.name);
  }

  async rollCall(actor: Actor, unitId: string): Promise<void> {
    this.authorize(actor, 'rollCall');
    this.requireKnownUnit(unitId);
    const firstCall = this.control.status(unitId) === undefined;
    const { endedFloor } = this.control.call(unitId);
    if (firstCall) this.saveRollCall(unitId, null, null);
    this.announceControl();
    if (firstCall) this.deps.emitToMeeting(this.id, 'rollCallStatus', { unitId, status: 'called' });
    this.memberOfUnit(unitId)?.notice('rollCalled', actor.name);
    if (endedFloor) await this.silenceIfHeld(endedFloor, null, actor.name);
  }

  /** Calls the next unit not called yet; null when every unit has been called. */
  async rollCallNext(actor: Actor): Promise<string | null> {
    this.authorize(actor, 'rollCall');
    const next = this.control.nextUncalled();
    if (next) await this.rollCall(actor, next);
    else await this.finishRollCall(actor);
    return next;
  }

  markRollCall(actor: Actor, unitId: string, result: RollCallResult): void {
    this.authorize(actor, 'rollCall');
    if (!this.control.mark(unitId, result)) return;
    this.saveRollCall(unitId, result, actor.name);
    this.announceControl();
    this.deps.emitToMeeting(this.id, 'rollCallStatus', { unitId, status: result });
  }

  async finishRollCall(actor: Actor): Promise<void> {
    this.authorize(actor, 'rollCall');
    const { endedFloor, changed } = this.control.finishCall();
    if (changed) this.announceControl();
    if (endedFloor) await this.silenceIfHeld(endedFloor, null, actor.name);
  }

  setBroadcast(actor: Actor, unitId: string | null): void {
    this.authorize(actor, 'broadcastVenue');
    if (unitId !== null) this.requireKnownUnit(unitId);
    if (this.control.setBroadcast(unitId)) this.announceControl();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  authorize(actor: Actor, action: MeetingAction): void {
    if (!can(actor.role, action)) {
      throw new ProtocolError('FORBIDDEN', `your role (${actor.role}) may not ${action}; only the chair can`);
    }
  }

  /** A unit is known if it is invited, in the directory or in the meeting now. */
  private requireKnownUnit(unitId: string): void {
    if (this.memberOfUnit(unitId) || this.record.invitedUnitIds.includes(unitId) || this.deps.store.units.get(unitId)) return;
    throw new ProtocolError('NOT_FOUND', `no unit ${unitId} in this meeting or the directory`);
  }

  /** After a policy change, pauses every microphone that is no longer allowed. */
  private async enforceMicPolicy(by: string): Promise<void> {
    await Promise.all(
      this.visibleMembers()
        .filter((member) => !this.micAllowed(member))
        .map(async (member) => {
          if (await member.pauseSource('microphone')) member.notice('muted', by);
        }),
    );
  }

  /** The unit lost the floor: its microphone goes off unless the policy still allows it. */
  private async silenceIfHeld(unitId: string, kind: ChairNoticeKind | null, by: string): Promise<void> {
    const member = this.memberOfUnit(unitId);
    if (!member) return;
    if (kind) member.notice(kind, by);
    if (!this.micAllowed(member) && (await member.pauseSource('microphone')) && !kind) member.notice('muted', by);
  }

  private saveRollCall(unitId: string, result: RollCallResult | null, markedBy: string | null): void {
    const now = this.now();
    const calledAt = this.calledAt.get(unitId) ?? now;
    this.calledAt.set(unitId, calledAt);
    this.deps.store.attendance.saveRollCall({
      meetingId: this.id,
      unitId,
      calledAt,
      result,
      markedAt: result ? now : null,
      markedBy,
    });
  }

  private settingsChanged(): void {
    this.persistSettings();
    this.announceControl();
  }

  private persistSettings(): void {
    this.record = this.deps.store.meetings.update(this.id, { settings: this.control.persistentSettings }) ?? this.record;
  }

  /**
   * Tells everyone the control state, at most ROSTER_BATCH_HZ times a second: the first change goes
   * out at once, later ones within the interval go out together as the latest state. (An ad-hoc
   * meeting changes it with every join; 550 joins must not mean 550 sends to each member.)
   */
  private announceControl(): void {
    if (this.controlTimer) return;
    const wait = this.controlSentAt + 1000 / ROSTER_BATCH_HZ - this.now();
    const send = (): void => {
      this.controlTimer = null;
      this.controlSentAt = this.now();
      this.deps.emitToMeeting(this.id, 'controlChanged', { control: this.control.state() });
    };
    if (wait <= 0) send();
    else this.controlTimer = setTimeout(send, wait);
  }
}
