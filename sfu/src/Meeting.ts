import { EventEmitter } from 'node:events';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { SfuError } from './errors.js';
import { mergeHeard, nextAudible, nextSpeaker, sameIds } from './lastN.js';
import { MeetingRouter } from './MeetingRouter.js';
import { Participant, type CloseReason, type ParticipantHost } from './Participant.js';
import { ProducerPipes } from './ProducerPipes.js';
import type { WorkerPool } from './WorkerPool.js';

/** Why a meeting's media ended: closed by its owner, or lost with its last worker. */
export type MeetingCloseReason = CloseReason;

export interface MeetingOptions {
  /** How many participants the audible set (audio last-N) holds; default 4. */
  audibleSize?: number;
}

export interface MeetingEvents {
  close: [reason: MeetingCloseReason];
  /** The main speaker changed; null when that participant left. */
  activespeaker: [participantId: string | null];
  /** The audible set changed: participants heard most recently, most recent (then loudest) first. */
  audiblechange: [participantIds: string[]];
  /** A participant's new producer, on the router it was produced on (recordings follow these). */
  produceradded: [producer: ms.Producer, router: ms.Router];
}

/** One of a meeting's routers and how many of its participants are placed there. */
export interface RouterPlacement {
  workerPid: number;
  routerId: string;
  participants: number;
}

const DEFAULT_AUDIBLE_SIZE = 4;
/** The active speaker and the audible set are re-evaluated at most this often (ms). */
const HEARD_UPDATE_INTERVAL_MS = 300;

/**
 * A meeting's media: one router per worker it uses, the participants placed on them, and who is
 * heard. Closing the meeting closes every participant and router.
 *
 * Placement: a new participant goes to the live worker with the least load across all meetings
 * (WorkerPool.leastLoaded); the meeting opens its router there on first use. With one worker
 * everything stays on one router. A consumer of a producer on another router gets it through a
 * pipe made on demand and shared (ProducerPipes).
 *
 * Who is heard: each router has an AudioLevelObserver over the microphones produced on it, and
 * the meeting merges their latest reports (lastN.ts). Piping every microphone to one router's
 * ActiveSpeakerObserver would cost one pipe and one cross-worker RTP stream per microphone,
 * would move when that router's worker died, and names one speaker only, while the audible set
 * needs the levels of several. The cost: a fixed speech threshold instead of the active speaker
 * observer's per-microphone noise floor, with a margin (SPEAKER_SWITCH_MARGIN_DB) against flapping.
 *
 * A dying worker closes the participants placed on it with reason 'worker-died'; the meeting
 * carries on on its other routers and closes with 'worker-died' only when its last router dies.
 */
export class Meeting extends EventEmitter<MeetingEvents> implements ParticipantHost {
  readonly participants = new Map<string, Participant>();
  /** Open routers in the order they opened; the first is `router`. */
  private readonly routers: MeetingRouter[] = [];
  private readonly opening = new Map<ms.Worker, Promise<MeetingRouter>>();
  private readonly placements = new Map<Participant, ms.Worker>();
  /** The router each producer was produced on. */
  private readonly producerRouters = new Map<string, MeetingRouter>();
  private readonly pipes = new ProducerPipes();
  private speaker: string | null = null;
  private audible: string[] = [];
  private heardUpdate?: NodeJS.Timeout;
  private lastHeardUpdate = 0;
  private closed = false;

  private constructor(
    readonly id: string,
    private readonly pool: WorkerPool,
    private readonly config: SfuConfig,
    private readonly logger: Logger,
    private readonly audibleSize: number,
  ) {
    super();
    this.setMaxListeners(0); // one 'close' listener per participant session
  }

  /** A meeting with its first router on the least-loaded worker (waiting for one if all restart). */
  static async create(id: string, pool: WorkerPool, config: SfuConfig, logger: Logger, options: MeetingOptions = {}): Promise<Meeting> {
    const audibleSize = options.audibleSize ?? DEFAULT_AUDIBLE_SIZE;
    if (!Number.isInteger(audibleSize) || audibleSize < 1) {
      throw new RangeError(`audibleSize must be a positive integer, not ${audibleSize}`);
    }
    const meeting = new Meeting(id, pool, config, logger, audibleSize);
    await meeting.routerOn(await pool.worker());
    return meeting;
  }

  /** The participant heard last (kept through silence), or null. */
  get activeSpeakerId(): string | null {
    return this.speaker;
  }

  /** The audible set: up to `audibleSize` participants heard most recently, most recent first. */
  get audibleIds(): string[] {
    return [...this.audible];
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The meeting's first open router (every router has the same capabilities). */
  get router(): ms.Router {
    return this.routers[0]!.router;
  }

  get rtpCapabilities(): ms.RtpCapabilities {
    return this.router.rtpCapabilities;
  }

  /** Each open router, its worker, and the participants placed on it. */
  get placement(): RouterPlacement[] {
    const placed = [...this.placements.values()];
    return this.routers.map(({ worker, router }) => ({
      workerPid: worker.pid,
      routerId: router.id,
      participants: placed.filter((candidate) => candidate === worker).length,
    }));
  }

  /** Producers piped between this meeting's routers (open or being made). */
  get pipeCount(): number {
    return this.pipes.size;
  }

  addParticipant(participantId: string): Participant {
    if (this.closed) throw new SfuError('INVALID_STATE', `meeting ${this.id} has ended`);
    if (this.participants.has(participantId)) {
      throw new SfuError('INVALID_STATE', `participant ${participantId} is in meeting ${this.id} already`);
    }
    const worker = this.pool.leastLoaded();
    if (!worker) throw new SfuError('INVALID_STATE', 'no media worker is running; join again in a moment');
    const router = this.routerOn(worker).then((meetingRouter) => meetingRouter.router);
    router.catch(() => undefined); // a router that fails to open closes its participants (routerFailed)
    const participant = new Participant(
      participantId,
      this,
      { workerPid: worker.pid, router },
      this.config,
      this.logger.child({ participantId, workerPid: worker.pid }),
    );
    this.participants.set(participantId, participant);
    this.placements.set(participant, worker);
    const release = this.pool.addParticipant(worker);
    participant.once('close', () => {
      release();
      this.participants.delete(participantId);
      this.placements.delete(participant);
      this.forget(participantId);
    });
    return participant;
  }

  /**
   * Called for each new producer with the router it was produced on (the first router unless
   * told): microphones feed that router's audio level observer.
   */
  producerAdded(producer: ms.Producer, router: ms.Router = this.router): void {
    const source = this.routers.find((candidate) => candidate.router === router);
    if (!source || producer.closed) return;
    this.producerRouters.set(producer.id, source);
    producer.observer.once('close', () => this.producerRouters.delete(producer.id));
    this.emit('produceradded', producer, router);
    if (producer.kind !== 'audio') return;
    source.observe(producer).catch((error: unknown) => {
      if (!producer.closed) this.logger.warn({ err: error, producerId: producer.id }, 'audio level observer refused a producer');
    });
  }

  findProducer(producerId: string): ms.Producer | undefined {
    for (const participant of this.participants.values()) {
      const producer = participant.producers.get(producerId);
      if (producer) return producer;
    }
    return undefined;
  }

  canConsume(producer: ms.Producer, rtpCapabilities: ms.RtpCapabilities): boolean {
    const source = this.producerRouters.get(producer.id);
    return !!source && source.router.canConsume({ producerId: producer.id, rtpCapabilities });
  }

  /** Makes `producer` consumable on `router` (one of this meeting's); resolves with the producer there. */
  async pipeProducer(producer: ms.Producer, router: ms.Router): Promise<ms.Producer> {
    const source = this.producerRouters.get(producer.id);
    if (!source) throw new SfuError('NOT_FOUND', `producer ${producer.id} has closed`);
    return this.pipes.pipe(producer, source.router, router);
  }

  /** Every open producer of every participant. */
  get producers(): ms.Producer[] {
    return [...this.participants.values()].flatMap((participant) => [...participant.producers.values()].filter((producer) => !producer.closed));
  }

  close(reason: MeetingCloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.heardUpdate);
    for (const participant of [...this.participants.values()]) participant.close(reason);
    for (const meetingRouter of this.routers) meetingRouter.close();
    this.logger.info({ reason }, 'meeting media closed');
    this.emit('close', reason);
  }

  /** The meeting's router on `worker`, opened on first use (concurrent callers share one). */
  private routerOn(worker: ms.Worker): Promise<MeetingRouter> {
    const open = this.routers.find((candidate) => candidate.worker === worker);
    if (open) return Promise.resolve(open);
    let opening = this.opening.get(worker);
    if (!opening) {
      opening = MeetingRouter.create(this.pool, worker, this.audibleSize, () => this.heardChanged())
        .then((meetingRouter) => this.adopt(meetingRouter))
        .finally(() => this.opening.delete(worker));
      opening.catch((error: unknown) => this.routerFailed(worker, error));
      this.opening.set(worker, opening);
    }
    return opening;
  }

  private adopt(meetingRouter: MeetingRouter): MeetingRouter {
    const { router, worker } = meetingRouter;
    if (this.closed || router.closed) {
      meetingRouter.close();
      throw new SfuError('INVALID_STATE', this.closed ? `meeting ${this.id} has ended` : `worker ${worker.pid} died`);
    }
    this.routers.push(meetingRouter);
    router.on('workerclose', () => this.routerLost(meetingRouter));
    this.logger.info({ routerId: router.id, workerPid: worker.pid }, 'meeting router opened');
    return meetingRouter;
  }

  private routerFailed(worker: ms.Worker, error: unknown): void {
    if (this.closed) return;
    this.logger.error({ err: error, workerPid: worker.pid }, 'meeting router could not open; its participants must join again');
    this.closeParticipantsOn(worker);
  }

  /** A worker died under one of the routers: its participants go; the meeting goes with its last router. */
  private routerLost(lost: MeetingRouter): void {
    this.logger.error({ routerId: lost.router.id, workerPid: lost.worker.pid }, 'meeting router lost with its worker');
    if (this.routers.length === 1) {
      this.close('worker-died');
      return;
    }
    this.routers.splice(this.routers.indexOf(lost), 1);
    this.closeParticipantsOn(lost.worker);
    this.heardChanged();
  }

  private closeParticipantsOn(worker: ms.Worker): void {
    for (const [participant, placed] of [...this.placements]) {
      if (placed === worker) participant.close('worker-died');
    }
  }

  /** A router's observer reported: re-evaluate who is heard, at most every HEARD_UPDATE_INTERVAL_MS. */
  private heardChanged(): void {
    if (this.heardUpdate || this.closed) return;
    const wait = Math.max(0, this.lastHeardUpdate + HEARD_UPDATE_INTERVAL_MS - Date.now());
    this.heardUpdate = setTimeout(() => this.updateHeard(), wait);
  }

  private updateHeard(): void {
    this.heardUpdate = undefined;
    this.lastHeardUpdate = Date.now();
    const heard = mergeHeard(this.routers.map((meetingRouter) => meetingRouter.heard)).filter((level) =>
      this.participants.has(level.participantId),
    );
    this.setActiveSpeaker(nextSpeaker(this.speaker, heard));
    this.setAudible(nextAudible(this.audible, heard, this.audibleSize));
  }

  /** A participant left: it is no longer the speaker nor audible. */
  private forget(participantId: string): void {
    if (this.speaker === participantId) this.setActiveSpeaker(null);
    this.setAudible(this.audible.filter((candidate) => candidate !== participantId));
  }

  private setActiveSpeaker(participantId: string | null): void {
    if (participantId === this.speaker || this.closed) return;
    this.speaker = participantId;
    this.emit('activespeaker', participantId);
  }

  private setAudible(participantIds: string[]): void {
    if (sameIds(participantIds, this.audible) || this.closed) return;
    this.audible = participantIds;
    this.emit('audiblechange', [...participantIds]);
  }
}
