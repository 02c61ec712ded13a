import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { SfuError } from './errors.js';
import { Participant, type ParticipantHost } from './Participant.js';

/** Why a meeting's media ended: closed by its owner, or lost with its worker. */
export type MeetingCloseReason = 'closed' | 'worker-died';

export interface MeetingEvents {
  close: [reason: MeetingCloseReason];
}

/**
 * A meeting's media: its router and the participants on it. Closing the meeting closes every
 * participant and the router; a dying worker closes the meeting with reason 'worker-died'.
 */
export class Meeting extends EventEmitter<MeetingEvents> implements ParticipantHost {
  readonly participants = new Map<string, Participant>();
  private closed = false;

  constructor(
    readonly id: string,
    readonly router: ms.Router,
    private readonly config: SfuConfig,
    private readonly logger: Logger,
  ) {
    super();
    this.setMaxListeners(0); // one 'close' listener per participant session
    router.on('workerclose', () => this.close('worker-died'));
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
    participant.once('close', () => this.participants.delete(participantId));
    return participant;
  }

  findProducer(producerId: string): ms.Producer | undefined {
    for (const participant of this.participants.values()) {
      const producer = participant.producers.get(producerId);
      if (producer) return producer;
    }
    return undefined;
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
