// One feed shared into one meeting: a participant on that meeting's router carrying the feed's
// producers (piped from the command centre), announced in the meeting's roster like a unit.
import type { mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from '../log.js';
import type { MediaMember } from '../governance/MediaMember.js';

export class FeedShare {
  /** Source producer id → its pipe producer in this meeting. */
  private readonly relayed = new Map<string, ms.Producer>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    readonly member: MediaMember,
    private readonly logger: Logger,
  ) {}

  get meetingId(): string {
    return this.member.meetingId;
  }

  /**
   * Carries every open producer in `producers` (living on `from`) into the meeting, once each.
   * Pipe producers close with their source producer; the roster hears of both.
   */
  sync(producers: ms.Producer[], from: ms.Router): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      for (const producer of producers) {
        if (producer.closed || this.relayed.has(producer.id) || this.member.isEnded) continue;
        try {
          const pipe = await this.member.participant.relay(producer, from);
          this.relayed.set(producer.id, pipe);
          pipe.observer.once('close', () => {
            this.relayed.delete(producer.id);
            if (!this.member.isEnded) this.member.producerClosed(pipe.id);
          });
          this.member.producerAdded(pipe);
        } catch (error) {
          if (producer.closed || this.member.isEnded) continue; // the feed or the meeting went meanwhile
          this.logger.warn({ err: error, meetingId: this.meetingId, producerId: producer.id }, 'could not carry a feed producer into a meeting');
        }
      }
    });
    return this.syncing;
  }

  end(): void {
    this.member.end();
  }
}
