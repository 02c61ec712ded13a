/**
 * A token bucket: `capacity` requests at once, refilled at `perSecond`. One per connection keeps a
 * misbehaving client (or a bot gone wild) from flooding the server and the meeting.
 */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.updated = now();
  }

  /** Takes one token if there is one. */
  take(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updated) / 1000) * this.perSecond);
    this.updated = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** Requests per connection: a join plus a full gallery page of consumes fits the burst. */
export const REQUEST_BURST = 400;
export const REQUESTS_PER_SECOND = 100;
/** Chat messages per participant. */
export const CHAT_BURST = 5;
export const CHAT_PER_SECOND = 1;
