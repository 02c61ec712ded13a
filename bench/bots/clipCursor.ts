// Real-time replay of a pre-encoded clip in a loop: which packet is due when, with RTP timestamps
// that follow the wall clock (so they stay monotonic across restarts and pauses), and a jump to the
// clip's next key frame when one is asked for. Shared by the meeting bots' RtpPacer and the SIP
// load generator (sipLoad.ts), which runs as its own transpiled process: this file imports only
// Node built-ins and its siblings (types only).
import type { Clip, ClipPacket } from './mediaClips.js';

/** After a stall (busy event loop) a stream drops what is this late instead of bursting it. */
const MAX_LATE_MS = 500;
const AUDIO_LEVEL_EXTENSION_ID = 1;

export class ClipCursor {
  /** The clip packet that is (or will next be) sent. */
  index = 0;
  /** RTP timestamp of the packet nextDue() last returned. */
  timestamp = 0;
  private readonly tsBase = Math.floor(Math.random() * 0x100000000);
  private readonly originMs = performance.now();
  private segmentStartMs = 0;
  private segmentTs = 0;
  private segmentStartOffset = 0;
  private loop = 0;

  constructor(readonly clip: Clip) {}

  /** Playback continues from packet `index` at `nowMs`. */
  restart(nowMs: number): void {
    const { clockRate, packets } = this.clip;
    this.segmentStartMs = nowMs;
    this.segmentTs = this.tsBase + Math.round(((nowMs - this.originMs) * clockRate) / 1000);
    this.segmentStartOffset = packets[this.index]!.tsOffset;
    this.loop = 0;
  }

  /** Playback continues at `nowMs` from the clip's next key frame (from the current packet on). */
  seekKeyFrame(nowMs: number): void {
    const { packets } = this.clip;
    for (let step = 0; step < packets.length; step++) {
      const index = (this.index + step) % packets.length;
      if (packets[index]!.keyFrameStart) {
        this.index = index;
        break;
      }
    }
    this.restart(nowMs);
  }

  /** The packet at `index` if it is due by `nowMs` (its RTP timestamp in `timestamp`); else undefined. */
  nextDue(nowMs: number): ClipPacket | undefined {
    const { packets, durationTs, clockRate } = this.clip;
    for (;;) {
      const packet = packets[this.index]!;
      const elapsedTs = this.loop * durationTs + packet.tsOffset - this.segmentStartOffset;
      const dueMs = this.segmentStartMs + (elapsedTs * 1000) / clockRate;
      if (dueMs > nowMs) return undefined;
      if (nowMs - dueMs > MAX_LATE_MS) {
        this.restart(nowMs);
        continue;
      }
      this.timestamp = (this.segmentTs + elapsedTs) >>> 0;
      return packet;
    }
  }

  /** The packet nextDue() returned has been sent: on to the next, looping at the clip's end. */
  advance(): void {
    this.index++;
    if (this.index === this.clip.packets.length) {
      this.index = 0;
      this.loop++;
    }
  }
}

/** One RTP packet; `audioLevel` (−dBov, 0 loudest to 127) adds the RFC 6464 extension, voice bit set. */
export function rtpPacket(payload: Buffer, marker: boolean, payloadType: number, sequence: number, timestamp: number, ssrc: number, audioLevel?: number): Buffer {
  const extensionBytes = audioLevel === undefined ? 0 : 8;
  const packet = Buffer.allocUnsafe(12 + extensionBytes + payload.length);
  packet[0] = extensionBytes ? 0x90 : 0x80;
  packet[1] = (marker ? 0x80 : 0) | payloadType;
  packet.writeUInt16BE(sequence, 2);
  packet.writeUInt32BE(timestamp, 4);
  packet.writeUInt32BE(ssrc, 8);
  if (audioLevel !== undefined) {
    // One-byte header extension block (0xBEDE), one word: id/length, voice-activity bit + level, padding.
    packet.writeUInt32BE(0xbede0001, 12);
    packet.writeUInt32BE(((AUDIO_LEVEL_EXTENSION_ID << 4) << 24) | ((0x80 | audioLevel) << 16), 16);
  }
  payload.copy(packet, 12 + extensionBytes);
  return packet;
}
