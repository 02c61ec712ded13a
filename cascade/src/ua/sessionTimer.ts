// RFC 4028 session timers: what an incoming INVITE/UPDATE asks for, what we answer, and when the
// refresher refreshes (half the interval) or the other side gives up (RFC 4028 §10).
import { formatSessionExpires, parseMinSE, parseSessionExpires } from '../sip/headers.js';
import type { SipMessage } from '../sip/message.js';

export interface SessionTimerOptions {
  /** The smallest interval we accept, seconds (default 90, the RFC 4028 minimum). */
  minSE?: number;
  /** Length of a session-timer "second" in ms (default 1000); tests shorten it. */
  secondMs?: number;
}

export interface SessionTimerConfig {
  minSE: number;
  secondMs: number;
}

/** A running session timer: its interval and who refreshes. */
export interface SessionInterval {
  seconds: number;
  refresher: 'local' | 'remote';
}

export function supportsTimer(message: SipMessage): boolean {
  return [...message.headers.getAll('Supported'), ...message.headers.getAll('Require')].some((tag) => tag.toLowerCase() === 'timer');
}

/** The Min-SE we must answer with 422 when the request's Session-Expires is below ours; undefined when fine. */
export function intervalTooSmall(request: SipMessage, config: SessionTimerConfig): number | undefined {
  const value = request.headers.get('Session-Expires');
  if (value === undefined) return undefined;
  return parseSessionExpires(value).seconds < config.minSE ? config.minSE : undefined;
}

/**
 * Our side of a refresh request we answer (INVITE, re-INVITE, UPDATE): the interval and the
 * response headers. Without Session-Expires in the request, `wantedSeconds` (ours) applies with us refreshing.
 */
export function answerSessionInterval(
  request: SipMessage,
  config: SessionTimerConfig,
  wantedSeconds: number | undefined,
): { interval?: SessionInterval; headers: [string, string][] } {
  const value = request.headers.get('Session-Expires');
  const peerSupports = supportsTimer(request);
  let seconds: number;
  let refresher: 'uac' | 'uas';
  if (value !== undefined) {
    const asked = parseSessionExpires(value);
    const peerMin = request.headers.get('Min-SE');
    seconds = Math.max(asked.seconds, config.minSE, peerMin === undefined ? 0 : parseMinSE(peerMin));
    refresher = peerSupports ? (asked.refresher ?? 'uas') : 'uas';
  } else if (wantedSeconds !== undefined) {
    seconds = Math.max(wantedSeconds, config.minSE);
    refresher = 'uas';
  } else {
    return { headers: [] };
  }
  const headers: [string, string][] = [['Session-Expires', formatSessionExpires({ seconds, refresher, params: {} })]];
  if (peerSupports) headers.push(['Require', 'timer']);
  return { interval: { seconds, refresher: refresher === 'uas' ? 'local' : 'remote' }, headers };
}

/** The interval a 2xx to our INVITE/UPDATE granted (we were the UAC); undefined when the peer has no timer. */
export function grantedSessionInterval(response: SipMessage): SessionInterval | undefined {
  const value = response.headers.get('Session-Expires');
  if (value === undefined) return undefined;
  const granted = parseSessionExpires(value);
  return { seconds: granted.seconds, refresher: granted.refresher === 'uas' ? 'remote' : 'local' };
}

/** When the refresher refreshes: half the interval. */
export function refreshDelayMs(interval: SessionInterval, config: SessionTimerConfig): number {
  return (interval.seconds / 2) * config.secondMs;
}

/** When the other side sends BYE without a refresh: the interval minus min(32, interval/3) (RFC 4028 §10). */
export function expiryDelayMs(interval: SessionInterval, config: SessionTimerConfig): number {
  return (interval.seconds - Math.min(32, interval.seconds / 3)) * config.secondMs;
}
