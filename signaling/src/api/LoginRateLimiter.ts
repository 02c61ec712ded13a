// Throttles password guessing: at most `limit` login attempts per username and client address in
// a fixed window. Counters live in memory and are pruned as they expire (no timer to own).
import { ApiError } from './ApiError.js';

interface Window {
  startedAt: number;
  attempts: number;
}

export class LoginRateLimiter {
  readonly #windows = new Map<string, Window>();

  constructor(
    readonly limit = 10,
    readonly windowMs = 60_000,
  ) {}

  /** Counts one attempt; TOO_MANY_REQUESTS (with Retry-After) past the limit. */
  attempt(username: string, address: string, now: number): void {
    this.#prune(now);
    const key = `${username.toLowerCase()}\u0000${address}`;
    let window = this.#windows.get(key);
    if (!window) {
      window = { startedAt: now, attempts: 0 };
      this.#windows.set(key, window);
    }
    window.attempts++;
    if (window.attempts > this.limit) {
      const retryAfter = Math.ceil((window.startedAt + this.windowMs - now) / 1000);
      throw new ApiError(
        'TOO_MANY_REQUESTS',
        `too many login attempts for "${username}": wait ${retryAfter} s and try again`,
        undefined,
        { 'retry-after': String(retryAfter) },
      );
    }
  }

  #prune(now: number): void {
    // Windows are inserted in start order: the expired ones are at the front.
    for (const [key, window] of this.#windows) {
      if (now - window.startedAt < this.windowMs) break;
      this.#windows.delete(key);
    }
  }
}
