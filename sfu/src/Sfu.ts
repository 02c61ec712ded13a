import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { MEDIA_CODECS } from './codecs.js';
import type { SfuConfig } from './config.js';
import { Meeting } from './Meeting.js';
import { WorkerPool } from './WorkerPool.js';

export interface SfuStats {
  workers: number;
  workersAlive: number;
  meetings: number;
  participants: number;
  transports: number;
  producers: number;
  consumers: number;
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

  /** The meeting's media, created on first use (concurrent callers share one creation). */
  async openMeeting(meetingId: string): Promise<Meeting> {
    const existing = this.meetings.get(meetingId);
    if (existing) return existing;
    let pending = this.opening.get(meetingId);
    if (!pending) {
      pending = this.createMeeting(meetingId).finally(() => this.opening.delete(meetingId));
      this.opening.set(meetingId, pending);
    }
    return pending;
  }

  stats(): SfuStats {
    const stats: SfuStats = {
      workers: this.pool.size,
      workersAlive: this.pool.workers.length,
      meetings: this.meetings.size,
      participants: 0,
      transports: 0,
      producers: 0,
      consumers: 0,
    };
    for (const meeting of this.meetings.values()) {
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

  private async createMeeting(meetingId: string): Promise<Meeting> {
    const router = await this.pool.createRouter(MEDIA_CODECS);
    const logger = this.logger.child({ meetingId });
    let meeting: Meeting;
    try {
      meeting = await Meeting.create(meetingId, router, this.config, logger);
    } catch (error) {
      router.close();
      throw error;
    }
    this.meetings.set(meetingId, meeting);
    meeting.once('close', () => this.meetings.delete(meetingId));
    logger.info({ routerId: router.id }, 'meeting media opened');
    this.emit('meeting', meeting);
    return meeting;
  }
}
