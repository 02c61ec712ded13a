// One site a meeting dials: an upper-level MCU (级联上级) or a unit's room terminal. It places the
// call, sends the MCU its conference id / PIN as DTMF once connected, and — for an MCU — dials
// again with backoff when the call drops or is refused for a reason that may pass.
import { NoCommonCodecError, SdpError, SipRequestError } from '@cityconf/cascade';
import { ProtocolError } from '../errors.js';
import type { Logger } from '../log.js';
import type { SipLeg, SipLegEnding } from './SipLeg.js';
import type { SipLegBook, SipLegEntry } from './SipLegBook.js';

export interface DialPlan {
  /** Keys sent after the connect ('' or null for none); ',' waits a second. */
  dtmf: string | null;
  dtmfDelayMs: number;
  /** Dial again when the call drops or a transient refusal comes. */
  redial: boolean;
}

/** Places one call; resolves with the connected leg (its end is reported through `legEnded`). */
export type PlaceCall = (signal: AbortSignal) => Promise<SipLeg>;

/** Waits between redials (ms): the nth redial waits REDIAL_DELAYS_MS[n-1], the last one from then on. */
export const REDIAL_DELAYS_MS = [2000, 4000, 8000, 16_000, 30_000];
/** A connection that lasted this long starts the backoff over (ms). */
const STABLE_CONNECTION_MS = 60_000;
/** The pause a ',' in the DTMF string stands for (ms). */
const DTMF_PAUSE_MS = 1000;
/** Between two keys (ms): MCUs' IVRs miss keys that come back to back. */
const DTMF_KEY_GAP_MS = 250;

/** SIP statuses that say dialling again will not help until someone changes the configuration. */
const PERMANENT_STATUSES = new Set([401, 403, 404, 407, 410, 416, 484, 485, 488, 604, 606]);

export class SipDialOut {
  private leg?: SipLeg;
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly entry: SipLegEntry,
    private readonly plan: DialPlan,
    private readonly place: PlaceCall,
    private readonly book: SipLegBook,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    void this.attempt();
  }

  /** The chair hangs up: no more redials; the call is cancelled or ended. */
  hangup(why = 'hung up by the chair'): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort(new Error(why));
    const leg = this.leg;
    this.leg = undefined;
    leg?.end(why, true, 'local');
    this.entry.moved('ended', this.now(), { error: null });
    this.book.changed(this.entry);
  }

  /** The connected leg ended (the gateway forwards every leg's end). */
  legEnded(leg: SipLeg, ending: SipLegEnding): void {
    if (leg !== this.leg) return;
    this.leg = undefined;
    if (this.stopped) return;
    const lasted = this.now() - (this.entry.status.connectedSince ?? this.now());
    if (lasted >= STABLE_CONNECTION_MS) this.entry.status.attempt = 0;
    if (ending.cause === 'removed' || ending.cause === 'local' || !this.plan.redial) {
      this.stopped = true;
      this.entry.moved('ended', this.now(), { error: ending.cause === 'peer' || ending.cause === 'media' ? ending.why : null });
      this.book.changed(this.entry);
      return;
    }
    this.logger.warn({ why: ending.why }, 'the cascade leg dropped: dialling again');
    this.scheduleRedial(ending.why);
  }

  private async attempt(): Promise<void> {
    if (this.stopped) return;
    this.entry.moved('calling', this.now(), { error: this.entry.status.error });
    this.book.changed(this.entry);
    const abort = (this.abort = new AbortController());
    let leg: SipLeg;
    try {
      leg = await this.place(abort.signal);
    } catch (error) {
      if (this.stopped) return;
      const { message, permanent } = describeFailure(error);
      this.logger.warn({ err: error, permanent }, 'dial-out failed');
      if (this.plan.redial && !permanent) {
        this.scheduleRedial(message);
      } else {
        this.stopped = true;
        this.entry.moved('failed', this.now(), { error: message });
        this.book.changed(this.entry);
      }
      return;
    }
    if (this.stopped) {
      leg.end('hung up by the chair', true, 'local');
      return;
    }
    this.leg = leg; // the gateway marked the entry connected
    if (this.plan.dtmf) void this.sendDigits(leg, this.plan.dtmf);
  }

  private scheduleRedial(why: string): void {
    const attempt = this.entry.status.attempt + 1;
    const delay = REDIAL_DELAYS_MS[Math.min(attempt, REDIAL_DELAYS_MS.length) - 1]!;
    this.entry.moved('redialing', this.now(), { error: why, attempt, nextAttemptAt: this.now() + delay });
    this.book.changed(this.entry);
    this.timer = setTimeout(() => void this.attempt(), delay);
  }

  /** The MCU's secondary dialling: after the delay, key by key, ',' as a pause. */
  private async sendDigits(leg: SipLeg, digits: string): Promise<void> {
    await sleep(this.plan.dtmfDelayMs);
    try {
      for (const key of digits) {
        if (this.leg !== leg) return;
        if (key === ',') {
          await sleep(DTMF_PAUSE_MS);
          continue;
        }
        await leg.sendDtmf(key);
        await sleep(DTMF_KEY_GAP_MS);
      }
      this.logger.info({ keys: digits.replace(/[0-9A-D]/g, '•').length }, 'DTMF sent to the cascade peer');
    } catch (error) {
      if (this.leg === leg) this.logger.warn({ err: error }, 'could not send the DTMF keys to the cascade peer');
    }
  }
}

/** What went wrong, in the chair's words, and whether dialling again can help. */
export function describeFailure(error: unknown): { message: string; permanent: boolean } {
  if (error instanceof SipRequestError) {
    const hint =
      error.status === 401 || error.status === 407
        ? ': check the username and password of the cascade target'
        : error.status === 404 || error.status === 484
          ? ': check the URI (the conference number) of the cascade target'
          : error.status === 488 || error.status === 606
            ? ': the peer takes none of our codecs'
            : '';
    return { message: `${error.status} ${error.reason}${hint}`, permanent: PERMANENT_STATUSES.has(error.status) };
  }
  if (error instanceof NoCommonCodecError) return { message: `no common codec: ${error.warning}`, permanent: true };
  if (error instanceof SdpError) return { message: `the peer's SDP answer is not usable: ${error.message}`, permanent: true };
  if (error instanceof ProtocolError) return { message: error.message, permanent: true };
  return { message: error instanceof Error ? error.message : String(error), permanent: false };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
