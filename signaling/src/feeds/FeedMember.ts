// A drone or camera feed as a participant of one meeting: the command centre, or a meeting it was
// shared into. Its SFU participant owns the feed's producers in that meeting (the ingest
// producers themselves in the command centre, pipe producers elsewhere), so viewers consume it
// like any unit's camera and microphone.
import type { mediasoupTypes as ms, Participant, ProducerAppData } from '@cityconf/sfu';
import type { Member } from '../governance/LiveMeeting.js';
import type { LiveMeeting } from '../governance/LiveMeeting.js';
import type { ParticipantInfo, ProducerInfo, ServerEvents } from '../protocol.js';

/** The pseudo unit id a feed appears under (broadcast venue, roster grouping). */
export const feedUnitId = (feedId: string): string => `feed:${feedId}`;

/** Roster grouping: feeds sit under their own top-level group. */
export const FEED_GROUP = '无人机与视频源';

export class FeedMember implements Member {
  readonly kind = 'feed';
  readonly role = 'participant';
  readonly hidden = false;
  private ended = false;
  private announced = false;

  constructor(
    readonly feedId: string,
    readonly name: string,
    readonly participant: Participant,
    private readonly live: LiveMeeting,
    /** Called once when the member leaves, for whatever reason: removes it from the roster. */
    private readonly onEnd: (member: FeedMember) => void,
  ) {}

  get participantId(): string {
    return this.participant.id;
  }

  get unitId(): string {
    return feedUnitId(this.feedId);
  }

  get meetingId(): string {
    return this.live.id;
  }

  info(): ParticipantInfo {
    return {
      id: this.participant.id,
      identity: this.unitId,
      unitId: this.unitId,
      role: this.role,
      name: this.name,
      isAdmin: false,
      handRaised: false,
      attributes: { unit: FEED_GROUP },
      producers: [...this.participant.producers.values()].map(producerInfo),
      feedId: this.feedId,
    };
  }

  /** Enters the meeting: the roster learns of the feed and its producers. */
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

  /** The chair mutes the feed's audio or hides its video in this meeting only. */
  async pauseSource(source: 'microphone' | 'camera'): Promise<boolean> {
    const producer = [...this.participant.producers.values()].find(
      (candidate) => (candidate.appData as ProducerAppData).source === source && !candidate.paused,
    );
    if (!producer) return false;
    await producer.pause();
    this.live.batcher.queue('producerUpdated', { participantId: this.participantId, producerId: producer.id, paused: true }, this.participantId);
    return true;
  }

  notice(): void {
    // A feed has nobody to tell.
  }

  videoDemand(): void {
    // A drone cannot be asked to stop sending; unwatched pipe producers forward nothing anyway.
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
