/** RTP and RTCP as the media relays of a SIP leg read and write them (RFC 3550, 4585, 6184, 7741). */

export const RTP_HEADER_BYTES = 12;

/** Whether a datagram on a muxed port is RTCP (payload types 192–223 per RFC 5761) rather than RTP. */
export function isRtcp(packet: Buffer): boolean {
  const type = packet[1] ?? 0;
  return packet.length >= 8 && type >= 192 && type <= 223;
}

export function isRtp(packet: Buffer): boolean {
  return packet.length >= RTP_HEADER_BYTES && (packet[0]! & 0xc0) === 0x80 && !isRtcp(packet);
}

export const payloadTypeOf = (packet: Buffer): number => packet[1]! & 0x7f;
export const sequenceOf = (packet: Buffer): number => packet.readUInt16BE(2);
export const timestampOf = (packet: Buffer): number => packet.readUInt32BE(4);
export const ssrcOf = (packet: Buffer): number => packet.readUInt32BE(8);

/** Where the payload of an RTP packet starts (after CSRCs and header extension). */
export function payloadOffset(packet: Buffer): number {
  const fixed = RTP_HEADER_BYTES + 4 * (packet[0]! & 0x0f);
  if ((packet[0]! & 0x10) === 0) return fixed;
  return fixed + 4 + 4 * packet.readUInt16BE(fixed + 2);
}

export function rtpPacket(fields: { payloadType: number; marker?: boolean; sequence: number; timestamp: number; ssrc: number }, payload: Buffer): Buffer {
  const header = Buffer.alloc(RTP_HEADER_BYTES);
  header[0] = 0x80;
  header[1] = (fields.marker ? 0x80 : 0) | fields.payloadType;
  header.writeUInt16BE(fields.sequence & 0xffff, 2);
  header.writeUInt32BE(fields.timestamp >>> 0, 4);
  header.writeUInt32BE(fields.ssrc >>> 0, 8);
  return Buffer.concat([header, payload]);
}

export type VideoCodecFamily = 'VP8' | 'H264';

/** Whether an RTP packet starts a key frame: the first packet of a VP8 key frame, or an H.264 SPS or IDR. */
export function startsKeyFrame(family: VideoCodecFamily, packet: Buffer): boolean {
  const payload = packet.subarray(payloadOffset(packet));
  return family === 'VP8' ? startsVp8KeyFrame(payload) : startsH264KeyFrame(payload);
}

function startsVp8KeyFrame(payload: Buffer): boolean {
  if (payload.length < 1) return false;
  const first = payload[0]!;
  if ((first & 0x10) === 0 || (first & 0x07) !== 0) return false; // S bit, partition 0
  let offset = 1;
  if (first & 0x80) {
    const extension = payload[offset++] ?? 0;
    if (extension & 0x80) offset += (payload[offset]! & 0x80) !== 0 ? 2 : 1; // PictureID
    if (extension & 0x40) offset += 1; // TL0PICIDX
    if (extension & 0x30) offset += 1; // TID / KEYIDX
  }
  return offset < payload.length && (payload[offset]! & 0x01) === 0; // P bit 0: key frame
}

const SPS = 7;
const IDR = 5;
const STAP_A = 24;
const FU_A = 28;

function startsH264KeyFrame(payload: Buffer): boolean {
  if (payload.length < 2) return false;
  const type = payload[0]! & 0x1f;
  if (type === SPS || type === IDR) return true;
  if (type === FU_A) return (payload[1]! & 0x80) !== 0 && (payload[1]! & 0x1f) === IDR;
  if (type !== STAP_A) return false;
  for (let offset = 1; offset + 2 < payload.length; offset += 2 + payload.readUInt16BE(offset)) {
    const nal = payload[offset + 2]! & 0x1f;
    if (nal === SPS || nal === IDR) return true;
  }
  return false;
}

/**
 * One continuous RTP stream (fixed SSRC and payload type, sequence numbers and timestamps that
 * go on) out of packets of changing sources. A source change re-anchors: its first packet follows
 * the last one sent, its timestamp advanced by the wall-clock time in between.
 */
export class RtpRewriter {
  private source?: number;
  private sequenceOffset = 0;
  private timestampOffset = 0;
  private lastSequence: number;
  private lastTimestamp: number;
  private lastSentAt = 0;

  constructor(
    readonly ssrc: number,
    private readonly clockRate: number,
    private readonly payloadType?: number,
  ) {
    this.lastSequence = Math.floor(Math.random() * 0x8000);
    this.lastTimestamp = Math.floor(Math.random() * 0x7fffffff);
  }

  /** `packet` (from `source`, any id of the caller's) as the next packet of the stream; a new buffer. */
  rewrite(packet: Buffer, source: number): Buffer {
    if (source !== this.source) {
      this.source = source;
      const elapsed = this.lastSentAt === 0 ? 0 : Math.max(1, Math.round(((Date.now() - this.lastSentAt) * this.clockRate) / 1000));
      this.sequenceOffset = (this.lastSequence + 1 - sequenceOf(packet)) & 0xffff;
      this.timestampOffset = (this.lastTimestamp + elapsed - timestampOf(packet)) >>> 0;
    }
    const out = Buffer.from(packet);
    if (this.payloadType !== undefined) out[1] = (out[1]! & 0x80) | this.payloadType;
    out.writeUInt16BE((sequenceOf(packet) + this.sequenceOffset) & 0xffff, 2);
    out.writeUInt32BE((timestampOf(packet) + this.timestampOffset) >>> 0, 4);
    out.writeUInt32BE(this.ssrc, 8);
    this.note(out);
    return out;
  }

  /** A packet of ours continuing the stream `samples` after the last one (e.g. silence). */
  synthesize(payload: Buffer, samples: number): Buffer {
    this.source = undefined;
    const out = rtpPacket({ payloadType: this.payloadType ?? 0, sequence: this.lastSequence + 1, timestamp: this.lastTimestamp + samples, ssrc: this.ssrc }, payload);
    this.note(out);
    return out;
  }

  /** An RTCP sender report of the current source, in the stream's SSRC and timestamps. */
  rewriteSenderReport(report: Buffer): Buffer | undefined {
    if (report.length < 28 || report[1] !== 200 || this.source === undefined) return undefined;
    const out = Buffer.from(report.subarray(0, 28));
    out[0] = 0x80; // the report blocks and further packets describe the source's side: left out
    out.writeUInt16BE(6, 2);
    out.writeUInt32BE(this.ssrc, 4);
    out.writeUInt32BE((report.readUInt32BE(16) + this.timestampOffset) >>> 0, 16);
    return out;
  }

  private note(packet: Buffer): void {
    const sequence = sequenceOf(packet);
    if (((sequence - this.lastSequence) & 0xffff) < 0x8000) {
      this.lastSequence = sequence;
      this.lastTimestamp = timestampOf(packet);
      this.lastSentAt = Date.now();
    }
  }
}

/** An RTCP PLI (RFC 4585 §6.3.1) from `senderSsrc` about `mediaSsrc`. */
export function pictureLossIndication(senderSsrc: number, mediaSsrc: number): Buffer {
  const packet = Buffer.alloc(12);
  packet[0] = 0x81; // version 2, FMT 1
  packet[1] = 206;
  packet.writeUInt16BE(2, 2);
  packet.writeUInt32BE(senderSsrc >>> 0, 4);
  packet.writeUInt32BE(mediaSsrc >>> 0, 8);
  return packet;
}

/** Whether a (compound) RTCP packet holds a PLI or a FIR: the sender asks for a key frame. */
export function asksForKeyFrame(packet: Buffer): boolean {
  for (let offset = 0; offset + 4 <= packet.length; offset += 4 * (packet.readUInt16BE(offset + 2) + 1)) {
    const format = packet[offset]! & 0x1f;
    const type = packet[offset + 1]!;
    if (type === 206 && (format === 1 || format === 4)) return true;
  }
  return false;
}
