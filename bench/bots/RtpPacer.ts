// Sends every bot's RTP from one UDP socket on one shared timer: each tick sends the packets that
// are due for every playing stream, so hundreds of bots cost one timer, not one each. A stream
// replays its clip in a loop with its own SSRC, sequence numbers and timestamps (timestamps follow
// the wall clock, so they stay monotonic across pauses). Video streams answer a PLI from the SFU by
// jumping to the clip's next key frame, as a terminal's encoder would send one.
import { createSocket, type Socket } from 'node:dgram';
import { ClipCursor, rtpPacket } from './clipCursor.js';
import type { Clip } from './mediaClips.js';

const TICK_MS = 5;
/** Speech rhythm for the audio level: 300 ms of talk, then 100 ms near the noise floor (20 ms packets). */
const SYLLABLE_PACKETS = 20;
const TALK_PACKETS = 15;
/** −dBov of a quiet room: what an open microphone sends between syllables, or when nobody talks. */
export const ROOM_NOISE_LEVEL = 90;

/** Where one stream goes and how it is stamped. */
export interface StreamTarget {
  ip: string;
  port: number;
  ssrc: number;
  payloadType: number;
  /**
   * Audio level in −dBov (0 loudest, 127 silence), sent in the RFC 6464 header extension that the
   * SFU's active speaker observer reads; undefined sends no extension.
   */
  audioLevel?: number;
}

export class RtpStream {
  private sequence = Math.floor(Math.random() * 0x10000);
  private readonly cursor: ClipCursor;
  playing = false;

  constructor(
    readonly clip: Clip,
    readonly target: StreamTarget,
  ) {
    this.cursor = new ClipCursor(clip);
  }

  /** Starts (or restarts) playback now, video from the next key frame. */
  start(nowMs: number): void {
    if (this.clip.kind === 'video') this.cursor.seekKeyFrame(nowMs);
    else this.cursor.restart(nowMs);
    this.playing = true;
  }

  stop(): void {
    this.playing = false;
  }

  /** A key frame now: continue from the clip's next key frame. */
  keyFrameRequested(nowMs: number): void {
    if (!this.playing || this.clip.kind !== 'video') return;
    this.cursor.seekKeyFrame(nowMs);
  }

  /** Sends what is due by `nowMs`; returns the number of packets sent. */
  sendDue(socket: Socket, nowMs: number): number {
    let sent = 0;
    for (let packet = this.cursor.nextDue(nowMs); packet; packet = this.cursor.nextDue(nowMs)) {
      socket.send(this.packetize(packet.payload, packet.marker, this.cursor.timestamp, this.cursor.index), this.target.port, this.target.ip);
      sent++;
      this.cursor.advance();
    }
    return sent;
  }

  private packetize(payload: Buffer, marker: boolean, timestamp: number, index: number): Buffer {
    // The SFU's dominant-speaker detection tracks each speaker's noise floor: a constant level would
    // soon count as silence, so the level follows a speech rhythm.
    const talking = index % SYLLABLE_PACKETS < TALK_PACKETS;
    const audioLevel = this.target.audioLevel === undefined ? undefined : talking ? this.target.audioLevel : ROOM_NOISE_LEVEL;
    const packet = rtpPacket(payload, marker, this.target.payloadType, this.sequence, timestamp, this.target.ssrc, audioLevel);
    this.sequence = (this.sequence + 1) & 0xffff;
    return packet;
  }
}

/** The shared sender: one UDP socket and one timer for every stream. */
export class RtpPacer {
  /** RTP packets sent since creation. */
  packetsSent = 0;
  private readonly streams = new Map<number, RtpStream>();
  private readonly timer: NodeJS.Timeout;

  private constructor(readonly socket: Socket) {
    socket.on('message', (message) => this.onRtcp(message));
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  static async create(): Promise<RtpPacer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setSendBufferSize(8 * 2 ** 20);
    return new RtpPacer(socket);
  }

  stream(clip: Clip, target: StreamTarget): RtpStream {
    const stream = new RtpStream(clip, target);
    this.streams.set(target.ssrc, stream);
    return stream;
  }

  close(): void {
    clearInterval(this.timer);
    this.socket.close();
  }

  private tick(): void {
    const now = performance.now();
    for (const stream of this.streams.values()) {
      if (stream.playing) this.packetsSent += stream.sendDue(this.socket, now);
    }
  }

  /** RTCP from the SFU (compound): a PLI (PT 206, FMT 1) asks that stream for a key frame. */
  private onRtcp(message: Buffer): void {
    for (let offset = 0; offset + 12 <= message.length; ) {
      const fmt = message[offset]! & 0x1f;
      const type = message[offset + 1]!;
      if (type === 206 && fmt === 1) this.streams.get(message.readUInt32BE(offset + 8))?.keyFrameRequested(performance.now());
      offset += (message.readUInt16BE(offset + 2) + 1) * 4;
    }
  }
}
