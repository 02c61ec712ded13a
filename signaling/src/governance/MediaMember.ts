// A participant whose media the server produces rather than a browser: a drone or camera feed (in
// the command centre, or shared into a meeting) or a SIP leg (a room terminal, an upper-level MCU).
// Its SFU participant owns the producers in that meeting (ingest producers, pipe producers, or a
// SIP leg's), so viewers consume it like any unit's camera and microphone.
import type { mediasoupTypes as ms, Participant, ProducerAppData } from '@cityconf/sfu';
import type { ChairNoticeKind, ParticipantInfo, ProducerInfo, ServerEvents } from '../protocol.js';
import type { LiveMeeting, Member } from './LiveMeeting.js';
import type { MeetingRole } from './roles.js';

/** Who a media member is in the roster. */
export interface MediaMemberIdentity {
  /** feed: no attendance or roll call; unit: a SIP terminal or MCU counts as that unit attending. */
  kind: 'unit' | 'feed';
  unitId: string;
  role: MeetingRole;
  name: string;
  attributes: Record<string, string>;
  /** Set for feeds. */
  feedId?: string;
}

/** Chair notices that open a SIP site's microphone. */
const OPENS_MICROPHONE: ReadonlySet<ChairNoticeKind> = new Set(['unmuteRequested', 'floorGranted', 'rollCalled']);

/** The pseudo unit id a feed appears under (broadcast venue, roster grouping). */
export const feedUnitId = (feedId: string): string => `feed:${feedId}`;

/** Roster grouping: feeds sit under their own top-level group. */
export const FEED_GROUP = '无人机与视频源';

/** A feed's identity in any meeting. */
export function feedIdentity(feedId: string, name: string): MediaMemberIdentity {
  return { kind: 'feed', unitId: feedUnitId(feedId), role: 'participant', name, attributes: { unit: FEED_GROUP }, feedId };
}

export class MediaMember implements Member {
  readonly hidden = false;
  private ended = false;
  private announced = false;

  constructor(
    readonly identity: MediaMemberIdentity,
    readonly participant: Participant,
    private readonly live: LiveMeeting,
    /** Called once when the member leaves, for whatever reason: removes it from the roster. */
    private readonly onEnd: (member: MediaMember) => void,
  ) {}

  get kind(): 'unit' | 'feed' {
    return this.identity.kind;
  }

  get role(): MeetingRole {
    return this.identity.role;
  }

  get name(): string {
    return this.identity.name;
  }

  get participantId(): string {
    return this.participant.id;
  }

  get unitId(): string {
    return this.identity.unitId;
  }

  get meetingId(): string {
    return this.live.id;
  }

  info(): ParticipantInfo {
    const { unitId, role, name, attributes, feedId } = this.identity;
    return {
      id: this.participant.id,
      identity: unitId,
      unitId,
      role,
      name,
      isAdmin: false,
      handRaised: this.kind === 'unit' && this.live.handRaised(unitId),
      attributes,
      producers: [...this.participant.producers.values()].map(producerInfo),
      ...(feedId === undefined ? {} : { feedId }),
    };
  }

  /** Enters the meeting: the roster learns of the member and its producers. */
  announce(): void {
    this.announced = true;
    this.live.add(this);
    this.live.batcher.queue('participantJoined', { participant: this.info() }, this.participantId);
  }

  /** A producer the participant adopted after it joined (before, the join carries it). */
  producerAdded(producer: ms.Producer): void {
    if (!this.announced) return;
    this.live.batcher.queue('producerAdded', { participantId: this.participantId, producer: producerInfo(producer) }, this.participantId);
  }

  producerClosed(producerId: string): void {
    if (!this.announced) return;
    this.live.batcher.queue('producerClosed', { participantId: this.participantId, producerId }, this.participantId);
  }

  /** The chair mutes its audio or hides its video in this meeting only. */
  async pauseSource(source: 'microphone' | 'camera'): Promise<boolean> {
    const producer = [...this.participant.producers.values()].find(
      (candidate) => (candidate.appData as ProducerAppData).source === source && !candidate.paused,
    );
    if (!producer) return false;
    await producer.pause();
    this.live.batcher.queue('producerUpdated', { participantId: this.participantId, producerId: producer.id, paused: true }, this.participantId);
    return true;
  }

  /**
   * A drone, an MCU or a room terminal has no chair banner to show. A SIP site's microphone is the
   * chair's to open, as on an MCU console: asked to unmute, granted the floor or roll-called, it is
   * opened here (a paused producer resumed).
   */
  notice(kind: ChairNoticeKind): void {
    if (this.kind === 'unit' && OPENS_MICROPHONE.has(kind)) void this.resumeSource('microphone');
  }

  private async resumeSource(source: 'microphone' | 'camera'): Promise<void> {
    const producer = [...this.participant.producers.values()].find(
      (candidate) => (candidate.appData as ProducerAppData).source === source && candidate.paused && !candidate.closed,
    );
    if (!producer || this.ended) return;
    await producer.resume();
    this.live.batcher.queue('producerUpdated', { participantId: this.participantId, producerId: producer.id, paused: false }, this.participantId);
  }

  videoDemand(): void {
    // A drone or terminal cannot be asked to stop sending; unwatched producers forward nothing anyway.
  }

  /** Leaves the meeting (unshared, removed by the chair, the meeting ended or emptied). */
  end(_reason?: ServerEvents['sessionEnded']['reason']): void {
    if (this.ended) return;
    this.ended = true;
    this.participant.close();
    if (this.announced) this.live.batcher.queue('participantLeft', { participantId: this.participantId }, this.participantId);
    this.onEnd(this); // takes it out of the roster (and drops a meeting nobody is left in)
  }

  get isEnded(): boolean {
    return this.ended;
  }
}

export function producerInfo(producer: ms.Producer): ProducerInfo {
  return {
    id: producer.id,
    kind: producer.kind,
    source: (producer.appData as ProducerAppData).source,
    paused: producer.paused,
  };
}
