import { randomInt } from 'node:crypto';
import type { MediaPorts } from './MediaPorts.js';
import { RtpRewriter } from './rtp.js';
import type { VideoSwitch } from './VideoSwitch.js';

/**
 * One SIP leg's video out: whatever VideoSwitch it watches, the peer gets one stream — this sink's
 * SSRC, its negotiated payload type, continuous sequence numbers and timestamps. Moving to another
 * switch takes effect at that switch's next key frame, so the picture never breaks.
 */
export class VideoSink {
  readonly ssrc = randomInt(1, 2 ** 31);
  /** The switch the peer sees now, and the one it moves to at its next key frame. */
  current?: VideoSwitch;
  pending?: VideoSwitch;
  /** Bumped by every request to show something else: older requests still in flight give way. */
  generation = 0;
  private readonly rewriter: RtpRewriter;

  constructor(
    readonly ports: MediaPorts,
    payloadType: number,
    /** A switch this sink watches failed for good. */
    readonly onFailure: (reason: Error) => void,
  ) {
    this.rewriter = new RtpRewriter(this.ssrc, 90000, payloadType);
  }

  /** An RTP packet of `from`'s output (`source` is the encoder's SSRC). */
  deliver(from: VideoSwitch, packet: Buffer, source: number, startsKeyFrame: boolean): void {
    if (from === this.pending && startsKeyFrame) {
      const previous = this.current;
      this.current = from;
      this.pending = undefined;
      previous?.detach(this);
    }
    if (from === this.current) this.ports.sendRtp('video', this.rewriter.rewrite(packet, source));
  }

  /** An RTCP sender report of `from`'s encoder: passed on in this sink's SSRC and timestamps. */
  deliverReport(from: VideoSwitch, report: Buffer): void {
    if (from !== this.current) return;
    const rewritten = this.rewriter.rewriteSenderReport(report);
    if (rewritten) this.ports.sendRtcp('video', rewritten);
  }

  /** Stops watching anything. */
  release(): void {
    this.generation++;
    this.current?.detach(this);
    this.pending?.detach(this);
    this.current = undefined;
    this.pending = undefined;
  }
}
