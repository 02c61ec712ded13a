// The receiving end of the drone benchmark: one UDP socket that the SFU's plain consumers send to,
// and per consumer SSRC when the first packet of each video frame (RTP timestamp) arrived and
// whether the frame carried an H.264 IDR picture.
import { createSocket, type Socket } from 'node:dgram';
import { epochMs } from './RtmpDronePublisher.js';

/** H.264 NAL unit types (RFC 6184): an IDR slice, and the aggregation and fragmentation units. */
const NAL_IDR = 5;
const NAL_STAP_A = 24;
const NAL_FU_A = 28;

/** What a publisher sent, by its frame key (RTMP: FLV ms; WHIP: RTP timestamp): when (epoch ms), and whether a key frame. */
export type SentFrames = Map<number, { at: number; keyFrame: boolean }>;

export interface ArrivedFrame {
  rtpTimestamp: number;
  /** When its first packet arrived (epoch ms). */
  arrivedAt: number;
  keyFrame: boolean;
}

/** Whether an H.264 RTP payload carries (the start of) an IDR slice. */
function carriesIdr(payload: Buffer): boolean {
  const type = payload[0]! & 0x1f;
  if (type === NAL_IDR) return true;
  if (type === NAL_FU_A) return payload.length > 1 && (payload[1]! & 0x1f) === NAL_IDR;
  if (type !== NAL_STAP_A) return false;
  for (let offset = 1; offset + 2 < payload.length; ) {
    const size = payload.readUInt16BE(offset);
    if ((payload[offset + 2]! & 0x1f) === NAL_IDR) return true;
    offset += 2 + size;
  }
  return false;
}

export class FrameArrivals {
  /** Frames per consumer SSRC, in arrival order, and the RTP timestamps seen. */
  private readonly streams = new Map<number, { frames: ArrivedFrame[]; seen: Set<number> }>();

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message) => this.onPacket(message));
  }

  static async open(): Promise<FrameArrivals> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(8 * 2 ** 20);
    return new FrameArrivals(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Records frames arriving with `ssrc` (a consumer's `rtpParameters.encodings[0].ssrc`). */
  track(ssrc: number): ArrivedFrame[] {
    const frames: ArrivedFrame[] = [];
    this.streams.set(ssrc, { frames, seen: new Set() });
    return frames;
  }

  close(): void {
    this.socket.close();
  }

  private onPacket(message: Buffer): void {
    if (message.length < 12 || (message[1]! >= 200 && message[1]! <= 206)) return; // RTCP (rtcp-mux)
    const stream = this.streams.get(message.readUInt32BE(8));
    if (!stream) return; // mediasoup's probation padding, or a consumer not tracked
    const arrivedAt = epochMs();
    const rtpTimestamp = message.readUInt32BE(4);
    let offset = 12 + (message[0]! & 0x0f) * 4;
    if (message[0]! & 0x10) offset += 4 + message.readUInt16BE(offset + 2) * 4; // header extension
    const payload = message.subarray(offset);
    if (payload.length === 0) return; // padding only
    const last = stream.frames.at(-1);
    if (last?.rtpTimestamp === rtpTimestamp) {
      last.keyFrame ||= carriesIdr(payload);
      return;
    }
    if (stream.seen.has(rtpTimestamp)) return; // a retransmitted or reordered packet of an earlier frame
    stream.seen.add(rtpTimestamp);
    stream.frames.push({ rtpTimestamp, arrivedAt, keyFrame: carriesIdr(payload) });
  }
}
