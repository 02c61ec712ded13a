import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { SfuError } from './errors.js';
import { Participant, type ParticipantHost, type ProducerAppData } from './Participant.js';

/** Why a meeting's media ended: closed by its owner, or lost with its worker. */
export type MeetingCloseReason = 'closed' | 'worker-died';

export interface MeetingEvents {
  close: [reason: MeetingCloseReason];
  /** The main speaker changed; null when the last one left. */
  activespeaker: [participantId: string | null];
}

/** How often the active speaker observer re-evaluates (ms). */
const ACTIVE_SPEAKER_INTERVAL_MS = 300;

/**
 * A meeting's media: its router, the participants on it, and the active speaker observer over
 * their microphones. Closing the meeting closes every participant and the router; a dying worker
 * closes the meeting with reason 'worker-died'.
 */
export class Meeting extends EventEmitter<MeetingEvents> implements ParticipantHost {
  readonly participants = new Map<string, Participant>();
  private speaker: string | null = null;
  private closed = false;

  private constructor(
    readonly id: string,
    readonly router: ms.Router,
    private readonly speakerObserver: ms.ActiveSpeakerObserver,
    private readonly config: SfuConfig,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0); // one 'close' listener per participant session
    router.on('workerclose', () => this.close('worker-died'));
    speakerObserver.on('dominantspeaker', ({ producer }: ms.ActiveSpeakerObserverActivity) => {
      this.setActiveSpeaker((producer.appData as ProducerAppData).participantId);
    });
  }

  static async create(id: string, router: ms.Router, config: SfuConfig, logger: Logger): Promise<Meeting> {
    const speakerObserver = await router.createActiveSpeakerObserver({ interval: ACTIVE_SPEAKER_INTERVAL_MS });
    return new Meeting(id, router, speakerObserver, config, logger);
  }

  /** The participant heard last (kept through silence), or null. */
  get activeSpeakerId(): string | null {
    return this.speaker;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get rtpCapabilities(): ms.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  addParticipant(participantId: string): Participant {
    if (this.closed) throw new SfuError('INVALID_STATE', `meeting ${this.id} has ended`);
    if (this.participants.has(participantId)) {
      throw new SfuError('INVALID_STATE', `participant ${participantId} is in meeting ${this.id} already`);
    }
    const participant = new Participant(
      participantId,
      this,
      this.config,
      this.logger.child({ participantId }),
    );
    this.participants.set(participantId, participant);
    participant.once('close', () => {
      this.participants.delete(participantId);
      if (this.speaker === participantId) this.setActiveSpeaker(null);
    });
    return participant;
  }

  /** Called by participants for each new producer: microphones feed the active speaker observer. */
  producerAdded(producer: ms.Producer): void {
    if (producer.kind !== 'audio') return;
    this.speakerObserver.addProducer({ producerId: producer.id }).catch((error: unknown) => {
      if (!producer.closed) this.logger.warn({ err: error, producerId: producer.id }, 'active speaker observer refused a producer');
    });
  }

  findProducer(producerId: string): ms.Producer | undefined {
    for (const participant of this.participants.values()) {
      const producer = participant.producers.get(producerId);
      if (producer) return producer;
    }
    return undefined;
  }

  private setActiveSpeaker(participantId: string | null): void {
    if (participantId === this.speaker || this.closed) return;
    this.speaker = participantId;
    this.emit('activespeaker', participantId);
  }

  close(reason: MeetingCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const participant of [...this.participants.values()]) participant.close();
    this.router.close();
    this.logger.info({ reason }, 'meeting media closed');
    this.emit('close', reason);
  }
}
