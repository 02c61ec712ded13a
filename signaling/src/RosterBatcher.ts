// Roster and producer changes of one meeting, sent to its members at most ROSTER_BATCH_HZ times a
// second in one `rosterBatch` event. When 550 units join at once, each member receives a handful
// of batches instead of 550 separate events (550² messages in all): the cost grows with the number
// of members, not its square.
import type { BatchedEvent, BatchedEventName, ServerEvents } from './protocol.js';

/** Batches per second at most (the first change after a quiet spell goes out at once). */
export const ROSTER_BATCH_HZ = 10;
const INTERVAL_MS = 1000 / ROSTER_BATCH_HZ;

export class RosterBatcher {
  private pending: BatchedEvent[] = [];
  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastFlush = 0;

  constructor(private readonly send: (payload: ServerEvents['rosterBatch']) => void) {}

  /** The sequence number of the latest queued change: a join snapshot includes everything up to it. */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Queues a change. `origin` is the participant it came from (its own client ignores it).
   * Leading edge: sent now if nothing went out in the last interval, else with the next batch.
   */
  queue<E extends BatchedEventName>(name: E, payload: ServerEvents[E], origin: string | null): void {
    this.pending.push({ seq: ++this.seq, origin, name, payload } as BatchedEvent);
    if (this.timer) return;
    const wait = this.lastFlush + INTERVAL_MS - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.lastFlush = Date.now();
    this.send({ events });
  }

  /** Sends what is pending and stops the timer (the meeting is closing). */
  close(): void {
    this.flush();
  }
}
