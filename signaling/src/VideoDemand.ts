// Who is watching each video producer. In a 550-unit meeting most cameras are on nobody's screen:
// their senders are told to stop encoding (videoDemand wanted:false) until someone shows them
// again, which saves their uplink and the SFU's inbound work. Audio is not covered (DTX and
// last-N handle it).
import type { mediasoupTypes as ms } from '@cityconf/sfu';

/** A producer nobody watches for this long is told to stop sending. */
export const VIDEO_IDLE_MS = 3000;

interface Demand {
  producer: ms.Producer;
  /** Consumers of the producer that are resumed (their receiver shows it). */
  watching: Set<string>;
  /** What the sender was last told (it starts out sending). */
  wanted: boolean;
  idleTimer: ReturnType<typeof setTimeout> | null;
}

export class VideoDemand {
  private readonly producers = new Map<string, Demand>();

  constructor(
    /** Tells the producer's sender whether anyone wants its video. */
    private readonly notify: (producer: ms.Producer, wanted: boolean) => void,
    private readonly idleMs = VIDEO_IDLE_MS,
  ) {}

  /** A new video producer: nobody watches it yet. */
  addProducer(producer: ms.Producer): void {
    if (producer.kind !== 'video') return;
    const demand: Demand = { producer, watching: new Set(), wanted: true, idleTimer: null };
    this.producers.set(producer.id, demand);
    producer.observer.once('close', () => {
      if (demand.idleTimer) clearTimeout(demand.idleTimer);
      this.producers.delete(producer.id);
    });
    this.update(demand);
  }

  /** Follows a consumer's paused state until it closes. */
  addConsumer(consumer: ms.Consumer): void {
    const demand = this.producers.get(consumer.producerId);
    if (!demand) return;
    const set = (watching: boolean): void => {
      if (watching) demand.watching.add(consumer.id);
      else demand.watching.delete(consumer.id);
      this.update(demand);
    };
    consumer.observer.on('resume', () => set(true));
    consumer.observer.on('pause', () => set(false));
    consumer.observer.once('close', () => set(false));
    set(!consumer.paused);
  }

  /** Whether anyone watches the producer now (for tests and stats). */
  watched(producerId: string): boolean {
    return (this.producers.get(producerId)?.watching.size ?? 0) > 0;
  }

  close(): void {
    for (const demand of this.producers.values()) if (demand.idleTimer) clearTimeout(demand.idleTimer);
    this.producers.clear();
  }

  private update(demand: Demand): void {
    const producerId = demand.producer.id;
    if (demand.watching.size > 0) {
      if (demand.idleTimer) clearTimeout(demand.idleTimer);
      demand.idleTimer = null;
      if (!demand.wanted) {
        demand.wanted = true;
        this.notify(demand.producer, true); // at once: a viewer is waiting for its first frame
      }
      return;
    }
    if (!demand.wanted || demand.idleTimer) return;
    // Idle for a while before telling: paging and layout switches re-watch within a second.
    demand.idleTimer = setTimeout(() => {
      demand.idleTimer = null;
      if (demand.watching.size > 0 || !this.producers.has(producerId)) return;
      demand.wanted = false;
      this.notify(demand.producer, false);
    }, this.idleMs);
  }
}
