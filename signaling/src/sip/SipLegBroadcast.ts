// Keeps the chairs of a meeting up to date on its SIP legs: the whole list on every change the SIP
// side reports, and again every 2 s while any leg of the meeting is connected (its bit rates and
// loss move without a state change).
import type { ServerEvents } from '../protocol.js';
import type { SipLegControl } from './SipLegControl.js';

/** How often connected legs' figures are sent (their rates are measured over the same 2 s). */
export const SIP_LEG_STATS_INTERVAL_MS = 2_000;

export class SipLegBroadcast {
  /** Meetings with a connected leg: their legs go out on every tick. */
  private readonly connected = new Set<string>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly control: SipLegControl,
    /** Sends the event to the chair-role sessions of the meeting. */
    private readonly sendToChairs: (meetingId: string, payload: ServerEvents['sipLegs']) => void,
    private readonly intervalMs = SIP_LEG_STATS_INTERVAL_MS,
  ) {
    control.on('legs', this.publish);
  }

  close(): void {
    this.control.off('legs', this.publish);
    this.connected.clear();
    this.stopTimer();
  }

  private readonly publish = (meetingId: string): void => {
    const legs = this.control.legs(meetingId);
    this.sendToChairs(meetingId, { legs });
    if (legs.some((leg) => leg.state === 'connected')) {
      this.connected.add(meetingId);
      this.timer ??= setInterval(this.tick, this.intervalMs);
    } else {
      this.connected.delete(meetingId);
      if (this.connected.size === 0) this.stopTimer();
    }
  };

  private readonly tick = (): void => {
    for (const meetingId of [...this.connected]) this.publish(meetingId);
  };

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
