// The IVR's keypad input: DTMF digits (RFC 4733 events or SIP INFO) gathered into one entry —
// a meeting number or a PIN — ended by '#', cleared by '*', given up after a pause.
import { EventEmitter } from 'node:events';

export interface DigitCollectorOptions {
  /** Digits at most before the entry counts as complete without '#' (default 16). */
  maxDigits?: number;
  /** The entry ends without '#' this long after the last digit, if any were typed (ms, default 5000). */
  interDigitTimeoutMs?: number;
  /** Nothing typed for this long after start(): the collector gives up (ms, default 20000). */
  firstDigitTimeoutMs?: number;
}

export interface DigitCollectorEvents {
  /** '#' pressed (or the pause or length ended it): the digits typed, without '#'. */
  entry: [digits: string];
  /** Nothing typed at all within firstDigitTimeoutMs. */
  timeout: [];
}

const KEYS = /^[0-9*#A-D]$/;

/**
 * Collects one entry at a time. A terminal that signals a key both in RTP (RFC 4733) and by SIP
 * INFO must be heard on one path only: the call chooses the path its negotiation says.
 */
export class DigitCollector extends EventEmitter<DigitCollectorEvents> {
  private digits = '';
  private timer?: NodeJS.Timeout;
  private active = false;
  /** A key was pressed in this entry (even '*', which leaves no digits). */
  private pressed = false;
  private readonly maxDigits: number;
  private readonly interDigitTimeoutMs: number;
  private readonly firstDigitTimeoutMs: number;

  constructor(options: DigitCollectorOptions = {}) {
    super();
    this.maxDigits = options.maxDigits ?? 16;
    this.interDigitTimeoutMs = options.interDigitTimeoutMs ?? 5000;
    this.firstDigitTimeoutMs = options.firstDigitTimeoutMs ?? 20_000;
  }

  /**
   * Starts (or restarts) an entry: what was typed before is forgotten. `untimed` waits for the
   * first key without limit until armTimeout(): keys count while a prompt plays, silence does not.
   */
  start({ untimed = false }: { untimed?: boolean } = {}): void {
    this.digits = '';
    this.active = true;
    this.pressed = false;
    if (untimed) clearTimeout(this.timer);
    else this.armTimeout();
  }

  /** Starts waiting firstDigitTimeoutMs for the first key, unless one was pressed already. */
  armTimeout(): void {
    if (!this.active || this.pressed) return;
    this.arm(this.firstDigitTimeoutMs, () => this.giveUp());
  }

  /** One key from the caller. Keys outside an entry (before start, after its end) are ignored. */
  press(key: string): void {
    if (!this.active) return;
    if (!KEYS.test(key)) throw new RangeError(`"${key}" is not a DTMF key: use 0-9, *, #, A-D`);
    this.pressed = true;
    if (key === '#') {
      this.finish();
      return;
    }
    if (key === '*') {
      this.digits = ''; // the caller starts over
    } else if (/[0-9]/.test(key)) {
      this.digits += key;
      if (this.digits.length >= this.maxDigits) {
        this.finish();
        return;
      }
    }
    this.arm(this.interDigitTimeoutMs, () => (this.digits ? this.finish() : this.giveUp()));
  }

  /** Whether an entry is open (started, not yet ended or given up). */
  get collecting(): boolean {
    return this.active;
  }

  /** Whether a key was pressed in this entry. */
  get keyPressed(): boolean {
    return this.pressed;
  }

  /** What has been typed in this entry so far. */
  get typed(): string {
    return this.digits;
  }

  stop(): void {
    this.active = false;
    clearTimeout(this.timer);
  }

  private finish(): void {
    const digits = this.digits;
    this.stop();
    this.emit('entry', digits);
  }

  private giveUp(): void {
    this.stop();
    this.emit('timeout');
  }

  private arm(ms: number, then: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(then, ms);
  }
}
