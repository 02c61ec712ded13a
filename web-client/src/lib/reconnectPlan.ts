// How a session that lost its connection tries again: rejoin attempts back off from 1 s to 8 s and
// go on until one succeeds; after UNREACHABLE_AFTER_MS without success the banner stops saying
// "reconnecting" and says the server cannot be reached and what to do. MeetingSession owns the timers.

export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 8_000;
export const UNREACHABLE_AFTER_MS = 30_000;
/** A meeting link's query parameter that shortens UNREACHABLE_AFTER_MS (end-to-end tests): `&unreachableAfterMs=3000`. */
export const UNREACHABLE_AFTER_PARAM = 'unreachableAfterMs';
const MIN_UNREACHABLE_AFTER_MS = 1_000;

/** The delay after `delayMs` when the attempt it led to failed too. */
export function backOff(delayMs: number): number {
  return Math.min(delayMs * 2, MAX_RETRY_DELAY_MS);
}

/** The escalation threshold for a page at `search` (`location.search`): shorter only, never under 1 s. */
export function unreachableAfterMs(search: string): number {
  const wanted = Number(new URLSearchParams(search).get(UNREACHABLE_AFTER_PARAM));
  if (!Number.isFinite(wanted) || wanted < MIN_UNREACHABLE_AFTER_MS) return UNREACHABLE_AFTER_MS;
  return Math.min(wanted, UNREACHABLE_AFTER_MS);
}
