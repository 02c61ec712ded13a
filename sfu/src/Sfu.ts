import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { Meeting, type MeetingOptions, type RouterPlacement } from './Meeting.js';
import type { WorkerStats } from './WorkerLoad.js';
import { WorkerPool } from './WorkerPool.js';

export interface SfuStats {
  /** Workers configured. */
  workersConfigured: number;
  workersAlive: number;
  /** What each live worker carries, across meetings. */
  workers: WorkerStats[];
  meetings: number;
  /** Participants' transports, producers and consumers (pipes are counted apart). */
  participants: number;
  transports: number;
  producers: number;
  consumers: number;
  /** Producers piped between routers of a meeting. */
  pipes: number;
  /** Where each meeting's media is: its routers, their workers and participants. */
  placement: Record<string, RouterPlacement[]>;
}

export interface SfuEvents {
  /** A meeting's media opened (first join); watch it for 'activespeaker' and 'close'. */
  meeting: [meeting: Meeting];
}

/** The media plane of one node: a worker pool and the meetings routed on it. */
export class Sfu extends EventEmitter<SfuEvents> {
  private readonly meetings = new Map<string, Meeting>();
  private readonly opening = new Map<string, Promise<Meeting>>();

  private constructor(
    readonly pool: WorkerPool,
    private readonly config: SfuConfig,
    private readonly logger: Logger,
  ) {
    super();
  }

  static async create(config: SfuConfig, logger: Logger): Promise<Sfu> {
    return new Sfu(await WorkerPool.create(config, logger), config, logger);
  }

  meeting(meetingId: string): Meeting | undefined {
    return this.meetings.get(meetingId);
  }

  /**
   * The meeting's media, created on first use (concurrent callers share one creation); `options`
   * apply when this call creates it. Never a closed meeting: if the last participant closed the
   * one being waited for, a new one is opened.
   */
  async openMeeting(meetingId: string, options?: MeetingOptions): Promise<Meeting> {
    for (;;) {
      const meeting = this.meetings.get(meetingId) ?? (await this.opened(meetingId, options));
      if (!meeting.isClosed) return meeting;
    }
  }

  private opened(meetingId: string, options?: MeetingOptions): Promise<Meeting> {
    let pending = this.opening.get(meetingId);
    if (!pending) {
      pending = this.createMeeting(meetingId, options).finally(() => this.opening.delete(meetingId));
      this.opening.set(meetingId, pending);
    }
    return pending;
  }

  stats(): SfuStats {
    const workers = this.pool.stats();
    const stats: SfuStats = {
      workersConfigured: this.pool.size,
      workersAlive: workers.length,
      workers,
      meetings: this.meetings.size,
      participants: 0,
      transports: 0,
      producers: 0,
      consumers: 0,
      pipes: 0,
      placement: {},
    };
    for (const meeting of this.meetings.values()) {
      stats.pipes += meeting.pipeCount;
      stats.placement[meeting.id] = meeting.placement;
      for (const participant of meeting.participants.values()) {
        stats.participants++;
        stats.transports += participant.transports.size;
        stats.producers += participant.producers.size;
        stats.consumers += participant.consumers.size;
      }
    }
    return stats;
  }

  close(): void {
    for (const meeting of [...this.meetings.values()]) meeting.close();
    this.pool.close();
  }

  private async createMeeting(meetingId: string, options?: MeetingOptions): Promise<Meeting> {
    const logger = this.logger.child({ meetingId });
    const meeting = await Meeting.create(meetingId, this.pool, this.config, logger, options);
    this.meetings.set(meetingId, meeting);
    meeting.once('close', () => this.meetings.delete(meetingId));
    logger.info({ routerId: meeting.router.id }, 'meeting media opened');
    this.emit('meeting', meeting);
    return meeting;
  }
}
