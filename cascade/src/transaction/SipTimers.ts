/** RFC 3261 §17 timer bases, in milliseconds; the lettered timers derive from them (Table 4). */
export interface SipTimers {
  /** RTT estimate: first retransmission interval (default 500). */
  t1: number;
  /** Longest retransmission interval of non-INVITE requests and INVITE responses (default 4000). */
  t2: number;
  /** How long a message may stay in the network (default 5000). */
  t4: number;
}

export const DEFAULT_SIP_TIMERS: Readonly<SipTimers> = { t1: 500, t2: 4000, t4: 5000 };

/** Timers B, F, H, J, L, M: 64·T1. */
export function transactionTimeout(timers: SipTimers): number {
  return 64 * timers.t1;
}

/** Schedules retransmissions at T1, 2·T1, 4·T1… capped at `cap` (Timers A, E, G and 2xx retransmission). */
export class Retransmitter {
  #timer?: NodeJS.Timeout;
  #interval: number;

  constructor(
    first: number,
    private readonly cap: number,
    private readonly retransmit: () => void,
  ) {
    this.#interval = first;
  }

  start(): void {
    this.#timer = setTimeout(() => {
      this.retransmit();
      this.#interval = Math.min(this.#interval * 2, this.cap);
      this.start();
    }, this.#interval);
  }

  /** Continue from T2 onwards (Timer E in Proceeding). */
  capAtMaximum(): void {
    this.#interval = this.cap;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
