// One SIP call in a meeting: a room terminal or an upper-level MCU as a participant. Its media
// goes through the RTP bridge both ways (cascade/src/media): what the peer sends becomes its
// camera and microphone in the meeting; what the meeting shows (broadcast venue, called unit,
// main venue or active speaker — never the peer itself) and says (the audible set without the
// peer: mix-minus) is sent to it. Key frame requests cross in both directions.
import { randomUUID } from 'node:crypto';
import {
  answerOffer,
  createOffer,
  NoCommonCodecError,
  readAnswer,
  SipInbound,
  SipOutbound,
  type IncomingOffer,
  type LocalMedia,
  type MediaPorts,
  type MediaPortsCounters,
  type Negotiation,
  type SipCall,
  type VideoSwitchPool,
} from '@cityconf/cascade';
import type { ListenIp, Meeting, mediasoupTypes as ms, Participant, ProducerAppData } from '@cityconf/sfu';
import type { LiveMeeting } from '../governance/LiveMeeting.js';
import { MediaMember, type MediaMemberIdentity } from '../governance/MediaMember.js';
import type { Logger } from '../log.js';
import type { MeetingControlState } from '../protocol.js';

export interface SipLegMedia {
  inbound: SipInbound;
  ports: { audioPort: number; videoPort: number };
}

/**
 * Why a leg ended: peer — the peer hung up or its session expired; media — its media stopped or
 * failed; removed — the chair removed it or the meeting ended; local — we hung up (or the server
 * is stopping, or the call never got going).
 */
export type SipLegEndCause = 'peer' | 'media' | 'removed' | 'local';

export interface SipLegEnding {
  why: string;
  cause: SipLegEndCause;
}

export interface SipLegDeps {
  meeting: Meeting;
  live: LiveMeeting;
  listenIp: ListenIp;
  logger: Logger;
  /** Takes the member out of the roster (and drops an empty meeting). */
  leave: (leg: SipLeg, ending: SipLegEnding) => void;
  /** Ports bound already (the IVR answered the call on them): the leg takes them over instead of binding its own. */
  ports?: MediaPorts;
  /** The meeting's video encoders, shared by its SIP legs. */
  videoSwitches?: VideoSwitchPool;
}

/** The participant id prefix of SIP legs (logs, the roster's ids). */
const LEG_PREFIX = 'sip-';

export class SipLeg {
  readonly id: string;
  private outbound?: SipOutbound;
  private member?: MediaMember;
  private ended = false;
  private readonly detach: Array<() => void> = [];

  private constructor(
    private readonly deps: SipLegDeps,
    readonly participant: Participant,
    private readonly inbound: SipInbound,
    private readonly logger: Logger,
  ) {
    this.id = participant.id;
  }

  /**
   * The leg's participant and its inbound ports, before the SDP answer is written (the answer
   * advertises these ports). Close it with `end()` if the call does not go ahead.
   */
  static async prepare(deps: SipLegDeps): Promise<{ leg: SipLeg; ports: { audioPort: number; videoPort: number } }> {
    const participant = deps.meeting.addParticipant(`${LEG_PREFIX}${randomUUID()}`);
    const logger = deps.logger.child({ legId: participant.id, meetingId: deps.meeting.id });
    try {
      const router = await participant.mediaRouter();
      const inbound = new SipInbound({ legId: participant.id, router, listenIp: deps.listenIp, logger, participant, ...(deps.ports ? { ports: deps.ports } : {}) });
      const ports = await inbound.allocate();
      return { leg: new SipLeg(deps, participant, inbound, logger), ports };
    } catch (error) {
      participant.close();
      throw error;
    }
  }

  /**
   * The call is answered: media both ways, the member in the roster. `local` is what our answer
   * offered (re-INVITEs are answered from it, continuing `negotiation`).
   */
  async connect(call: SipCall, negotiation: Negotiation, identity: MediaMemberIdentity, local: LocalMedia): Promise<void> {
    this.negotiation = negotiation;
    const { meeting, live, listenIp } = this.deps;
    await this.inbound.start(negotiation);
    this.outbound = await SipOutbound.start({
      legId: this.id,
      router: await this.participant.mediaRouter(),
      listenIp,
      negotiation,
      ports: this.inbound.ports,
      logger: this.logger,
      pipeProducer: (producer, router) => meeting.pipeProducer(producer, router),
      ...(this.deps.videoSwitches ? { videoSwitches: this.deps.videoSwitches } : {}),
    });
    if (this.ended) return;
    this.call = call;
    this.member = new MediaMember(identity, this.participant, live, () => this.end('removed from the meeting', true, 'removed'));
    this.member.announce();
    this.logger.info({ name: identity.name, unitId: identity.unitId }, 'sip leg joined the meeting');

    call.on('keyframeRequest', () => this.outbound?.requestKeyFrame());
    call.on('reinvite', (offer) => this.renegotiate(offer, local, call));
    call.on('ended', (reason) => this.end(`call ended: ${reason}`, false, reason === 'local-hangup' ? 'local' : 'peer'));
    this.inbound.on('keyFrameNeeded', () => void call.requestKeyFrame().catch(() => undefined));
    this.inbound.on('mediaTimeout', () => this.end('the peer stopped sending media', true, 'media'));
    this.inbound.once('failed', (reason) => this.end(`inbound media failed: ${reason.message}`, true, 'media'));
    this.outbound.once('failed', (reason) => this.end(`outbound media failed: ${reason.message}`, true, 'media'));
    this.hangupOnEnd = () => void call.hangup().catch(() => undefined);

    const follow = (): void => void this.followMeeting();
    meeting.on('activespeaker', follow);
    meeting.on('audiblechange', follow);
    meeting.on('produceradded', follow);
    this.detach.push(() => {
      meeting.off('activespeaker', follow);
      meeting.off('audiblechange', follow);
      meeting.off('produceradded', follow);
    });
    await this.followMeeting();
  }

  /** The chair's view changed (broadcast, roll call, main venue): the peer's picture follows. */
  controlChanged(_control: MeetingControlState): void {
    void this.followMeeting();
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves once an ended leg's media (its ffmpegs, transports, ports) are gone. */
  get stopped(): Promise<void> {
    return this.mediaStopped;
  }

  private mediaStopped: Promise<void> = Promise.resolve();

  /** What was agreed with the peer (the last offer/answer), once connected. */
  get negotiated(): Negotiation | undefined {
    return this.negotiation;
  }

  /** RTP totals both ways since the leg's ports were taken. */
  counters(): MediaPortsCounters {
    return this.inbound.ports.counters();
  }

  /**
   * Sends DTMF keys to the peer (an MCU's conference id and PIN): RFC 4733 events when the peer
   * took telephone-event, SIP INFO otherwise.
   */
  async sendDtmf(digits: string): Promise<void> {
    if (this.ended || !this.call || !this.outbound) throw new Error('the leg is not connected');
    if (this.negotiation?.audio?.telephoneEvent) await this.outbound.sendDtmf(digits);
    else await this.call.sendDtmf(digits);
  }

  /** Hangs up (unless the peer did) and closes the leg's media and participant. */
  end(why: string, hangup = true, cause: SipLegEndCause = 'local'): void {
    if (this.ended) return;
    this.ended = true;
    this.logger.info({ why, cause }, 'sip leg ends');
    for (const detach of this.detach) detach();
    if (hangup) this.hangupOnEnd?.();
    // The inbound side owns the leg's ports, which the outbound side sends from: outbound first.
    const outbound = this.outbound;
    this.mediaStopped = (async () => {
      await outbound?.stop().catch(() => undefined);
      await this.inbound.stop().catch(() => undefined);
    })();
    this.member?.end();
    this.participant.close();
    this.deps.leave(this, { why, cause });
  }

  private call?: SipCall;
  private hangupOnEnd?: () => void;
  private negotiation?: Negotiation;
  /** What the peer is sent now: the video producer's id ('' for none), the audio producers' ids. */
  private shownVideo?: string;
  private heardAudio?: string;

  /**
   * A re-INVITE or UPDATE: hold (sendonly / inactive), resume, a session refresh. Answered from the
   * same ports and codecs; the media keep running (a held peer simply sends nothing).
   */
  private renegotiate(incoming: IncomingOffer, local: LocalMedia, call: SipCall): void {
    try {
      if (incoming.offer === undefined) {
        // A re-INVITE without SDP: we offer in the 200, the answer comes in the ACK.
        const ours = createOffer(local, this.negotiation);
        incoming.accept(ours.sdp);
        call.once('answer', (sdp) => {
          try {
            this.negotiation = readAnswer(ours, sdp);
          } catch (error) {
            this.logger.warn({ err: error }, 'the answer in the ACK is not usable: keeping the media as they were');
          }
        });
        return;
      }
      const next = answerOffer(incoming.offer, local, this.negotiation);
      this.negotiation = next;
      incoming.accept(next.sdp);
      this.logger.info({ audio: next.audio?.direction, video: next.video?.direction }, 'sip leg renegotiated');
    } catch (error) {
      if (error instanceof NoCommonCodecError) {
        incoming.reject(488, 'Not Acceptable Here', [['Warning', `399 cityconf "${error.warning}"`]]);
        return;
      }
      this.logger.warn({ err: error }, 'could not answer the re-INVITE');
      incoming.reject(500, 'Server Internal Error');
    }
  }

  /** Sends the peer what the meeting shows and says, without the peer itself. */
  private async followMeeting(): Promise<void> {
    if (this.ended || !this.outbound) return;
    const { meeting, live } = this.deps;
    const control = live.control.state();
    const shownUnit = control.rollCall.currentUnitId ?? control.broadcastUnitId;
    const shownParticipant = shownUnit ? live.memberOfUnit(shownUnit)?.participantId : undefined;
    const mainVenue = control.mainVenueUnitId ? live.memberOfUnit(control.mainVenueUnitId)?.participantId : undefined;
    const candidates = [shownParticipant, meeting.activeSpeakerId, mainVenue, ...meeting.participants.keys()];
    const video = candidates
      .filter((id): id is string => !!id && id !== this.id)
      .map((id) => producerOf(meeting, id, 'camera'))
      .find((producer): producer is ms.Producer => !!producer);
    const heard = meeting.audibleIds.filter((id) => id !== this.id);
    const audio = heard.map((id) => producerOf(meeting, id, 'microphone')).filter((producer): producer is ms.Producer => !!producer);
    // The meeting's events come several times a second; the peer's media change only when the
    // choice does.
    const videoKey = video?.id ?? '';
    const audioKey = audio.map((producer) => producer.id).join(',');
    try {
      if (videoKey !== this.shownVideo) {
        this.shownVideo = videoKey;
        await this.outbound.setVideoSource(video ?? null);
      }
      if (audioKey !== this.heardAudio) {
        this.heardAudio = audioKey;
        await this.outbound.setAudioSources(audio);
      }
    } catch (error) {
      this.shownVideo = undefined; // the next meeting event tries again
      this.heardAudio = undefined;
      if (!this.ended) this.logger.warn({ err: error }, 'could not switch what the sip peer receives');
    }
  }
}

function producerOf(meeting: Meeting, participantId: string, source: ProducerAppData['source']): ms.Producer | undefined {
  const participant = meeting.participants.get(participantId);
  if (!participant) return undefined;
  for (const producer of participant.producers.values()) {
    if ((producer.appData as ProducerAppData).source === source && !producer.closed && !producer.paused) return producer;
  }
  return undefined;
}
