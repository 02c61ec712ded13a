// The SIP benchmark's load generator, run as its own Node process (see sipLoadProcess.ts) so that
// its CPU is not counted as the server's: the room terminals' media (each leg sends a pre-encoded
// H.264 clip and a G.711 A-law clip from its own ports and receives what the server sends back),
// the meeting's speaker (a camera and a microphone on a plain transport), and the receiving end of
// plain consumers of the legs' producers. Every send and every arrival is stamped here, on one
// clock, and the report compares them.
import { createSocket, type Socket } from 'node:dgram';
import { pathToFileURL } from 'node:url';
import { ClipCursor, rtpPacket } from './clipCursor.js';
import { isH264KeyFrameStart, type Clip } from './mediaClips.js';
import { StreamCounter } from './RtpReceiver.js';

/** Where one paced stream goes and how it is stamped. */
export interface LoadTarget {
  ip: string;
  port: number;
  ssrc: number;
  payloadType: number;
  /** Sends the RFC 6464 audio level (extension id 1): loud while the clip's tone sounds. */
  audioLevel?: boolean;
}

export interface LoadClips {
  terminalVideo: Clip;
  terminalAudio: Clip;
  speakerVideo: Clip;
  speakerAudio: Clip;
  /** The speaker's tone starts every this many seconds (its audio clip's rhythm). */
  toneIntervalS: number;
  /** The speaker's camera sends a key frame every this many seconds. */
  keyFrameIntervalS: number;
}

export type LoadCommand =
  | { type: 'init'; legs: number; clips: LoadClips }
  | { type: 'speaker'; video: LoadTarget; audio: LoadTarget }
  | { type: 'call'; leg: number; video: LoadTarget; audio: LoadTarget }
  | { type: 'consume'; leg: number; kind: 'audio' | 'video'; ssrc: number }
  | { type: 'keyFrame'; leg: number }
  /** The measured window starts or ends: packet counts are taken between the two. */
  | { type: 'windowStart' }
  | { type: 'windowEnd' }
  | { type: 'report'; from: number; to: number }
  | { type: 'stop' };

export type LoadEvent =
  | { type: 'ready'; legs: { videoPort: number; audioPort: number }[]; consumerPort: number; speakerPort: number }
  | { type: 'report'; report: LoadReport };

/** One leg over the measured window [from, to]. */
export interface LegReport {
  /** Terminal → server: video frames the terminal sent, and how many reached the consumer. */
  inFramesSent: number;
  inFramesArrived: number;
  inLatenciesMs: number[];
  /** Frames at the consumer whose slice matches no frame of the clip, or more than one. */
  inFramesUnmatched: number;
  inVideoPackets: { received: number; lost: number };
  inAudioPackets: { received: number; lost: number };
  /** Server → terminal. */
  outVideoFrames: number;
  outKeyFrames: number;
  outVideoLatenciesMs: number[];
  outAudioLatenciesMs: number[];
  outVideoPackets: { received: number; lost: number };
  outAudioPackets: { received: number; lost: number };
}

export interface LoadReport {
  legs: LegReport[];
  speakerKeyFramesSent: number;
  speakerTonesSent: number;
  /** Key frame requests the terminals answered (RTCP PLI and SIP INFO). */
  keyFrameRequests: number;
}

const TICK_MS = 5;
/** Bytes of the first slice NAL unit (header included) that identify a frame of the clip. */
const FINGERPRINT_BYTES = 64;
/** A−law sample magnitude (of 32767) above which the far end hears the speaker's tone. */
const TONE_THRESHOLD = 4000;
/** A tone onset follows at least this much quiet (ms). */
const ONSET_QUIET_MS = 500;
const LOUD_LEVEL = 20;
const SILENT_LEVEL = 127;

export const epochMs = (): number => performance.timeOrigin + performance.now();

/** Identifies a frame by the start of its first slice, whatever the packetisation (RFC 6184). */
export function sliceFingerprint(payload: Buffer): string | undefined {
  const isSlice = (type: number) => type === 1 || type === 5;
  const type = payload[0]! & 0x1f;
  if (isSlice(type)) return payload.subarray(0, FINGERPRINT_BYTES).toString('hex');
  if (type === 24) {
    for (let offset = 1; offset + 2 < payload.length; ) {
      const size = payload.readUInt16BE(offset);
      const nal = payload.subarray(offset + 2, offset + 2 + size);
      if (isSlice(nal[0]! & 0x1f)) return nal.subarray(0, FINGERPRINT_BYTES).toString('hex');
      offset += 2 + size;
    }
    return undefined;
  }
  if (type === 28 && payload.length > 2 && payload[1]! & 0x80 && isSlice(payload[1]! & 0x1f)) {
    const header = (payload[0]! & 0xe0) | (payload[1]! & 0x1f);
    return Buffer.concat([Buffer.of(header), payload.subarray(2, 1 + FINGERPRINT_BYTES)]).toString('hex');
  }
  return undefined;
}

/** G.711 A-law to 16-bit linear (ITU-T G.711). */
function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  const segment = (a & 0x70) >> 4;
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

/** Frame index (in clip order) of each packet, and the frame each slice fingerprint names (-1: ambiguous). */
function indexFrames(clip: Clip): { frameOf: number[]; byFingerprint: Map<string, number> } {
  const frameOf: number[] = [];
  const byFingerprint = new Map<string, number>();
  let frame = -1;
  let lastTs = -1;
  let fingerprinted = -1;
  for (const packet of clip.packets) {
    if (packet.tsOffset !== lastTs) {
      frame++;
      lastTs = packet.tsOffset;
    }
    frameOf.push(frame);
    if (fingerprinted === frame) continue;
    const fingerprint = sliceFingerprint(packet.payload);
    if (fingerprint === undefined) continue;
    fingerprinted = frame;
    byFingerprint.set(fingerprint, byFingerprint.has(fingerprint) ? -1 : frame);
  }
  return { frameOf, byFingerprint };
}

/** A clip replayed in a loop in real time from one socket, with its own SSRC, sequence and timestamps. */
class PacedStream {
  private sequence = Math.floor(Math.random() * 0x10000);
  private readonly cursor: ClipCursor;
  private lastFrameTs = -1;
  /** Each frame (video) or onset packet (audio) sent: clip frame index and epoch ms. */
  readonly sent: { frame: number; at: number; keyFrame: boolean }[] = [];

  constructor(
    private readonly clip: Clip,
    private readonly target: LoadTarget,
    private readonly socket: Socket,
    private readonly frameOf: number[],
    /** Audio: whether packet i starts the tone; video: unused. */
    private readonly onsetAt: (index: number) => boolean,
    private readonly loudAt: (index: number) => boolean,
  ) {
    this.cursor = new ClipCursor(clip);
    if (clip.kind === 'video') this.cursor.seekKeyFrame(performance.now());
    else this.cursor.restart(performance.now());
  }

  keyFrameRequested(): void {
    if (this.clip.kind !== 'video') return;
    this.cursor.seekKeyFrame(performance.now());
  }

  sendDue(nowMs: number): void {
    for (let packet = this.cursor.nextDue(nowMs); packet; packet = this.cursor.nextDue(nowMs)) {
      const { index, timestamp } = this.cursor;
      const at = epochMs();
      if (this.clip.kind === 'video' && timestamp !== this.lastFrameTs) {
        this.lastFrameTs = timestamp;
        this.sent.push({ frame: this.frameOf[index]!, at, keyFrame: packet.keyFrameStart });
      } else if (this.clip.kind === 'audio' && this.onsetAt(index)) {
        this.sent.push({ frame: index, at, keyFrame: false });
      }
      const level = this.target.audioLevel ? (this.loudAt(index) ? LOUD_LEVEL : SILENT_LEVEL) : undefined;
      this.socket.send(rtpPacket(packet.payload, packet.marker, this.target.payloadType, this.sequence, timestamp, this.target.ssrc, level), this.target.port, this.target.ip);
      this.sequence = (this.sequence + 1) & 0xffff;
      this.cursor.advance();
    }
  }
}

/** Frames of one received video stream: first-packet arrival, key frame, slice fingerprint. */
class VideoArrivals {
  readonly counter: StreamCounter;
  readonly frames: { at: number; keyFrame: boolean; fingerprint?: string }[] = [];
  private readonly byTimestamp = new Map<number, { at: number; keyFrame: boolean; fingerprint?: string }>();

  constructor(leg: number) {
    this.counter = new StreamCounter(leg, 'video', '');
  }

  onPacket(packet: Buffer, at: number): void {
    this.counter.record(packet.readUInt16BE(2), at);
    const payload = packet.subarray(payloadStart(packet));
    if (payload.length === 0) return;
    const timestamp = packet.readUInt32BE(4);
    let frame = this.byTimestamp.get(timestamp);
    if (!frame) {
      frame = { at, keyFrame: isH264KeyFrameStart(payload) };
      this.frames.push(frame);
      this.byTimestamp.set(timestamp, frame);
      if (this.byTimestamp.size > 200) this.byTimestamp.delete(this.byTimestamp.keys().next().value!);
    }
    frame.fingerprint ??= sliceFingerprint(payload);
  }
}

/** A-law audio at a far end: tone onsets heard (arrival of the packet holding the first loud sample). */
class ToneArrivals {
  readonly counter: StreamCounter;
  readonly onsets: number[] = [];
  private lastLoudAt = -Infinity;

  constructor(leg: number) {
    this.counter = new StreamCounter(leg, 'audio', '');
  }

  onPacket(packet: Buffer, at: number): void {
    this.counter.record(packet.readUInt16BE(2), at);
    const payload = packet.subarray(payloadStart(packet));
    for (let index = 0; index < payload.length; index++) {
      if (Math.abs(alawToLinear(payload[index]!)) < TONE_THRESHOLD) continue;
      const sampleAt = at + index / 8;
      if (sampleAt - this.lastLoudAt > ONSET_QUIET_MS) this.onsets.push(at);
      this.lastLoudAt = sampleAt;
    }
  }
}

function payloadStart(packet: Buffer): number {
  let offset = 12 + (packet[0]! & 0x0f) * 4;
  if (packet[0]! & 0x10) offset += 4 + packet.readUInt16BE(offset + 2) * 4;
  return offset;
}

const isRtcp = (packet: Buffer): boolean => packet.length >= 8 && packet[1]! >= 192 && packet[1]! <= 223;

/** A PLI (PT 206 FMT 1) or FIR (PT 206 FMT 4) in a compound RTCP packet. */
function asksKeyFrame(packet: Buffer): boolean {
  for (let offset = 0; offset + 4 <= packet.length; ) {
    const fmt = packet[offset]! & 0x1f;
    if (packet[offset + 1] === 206 && (fmt === 1 || fmt === 4)) return true;
    offset += (packet.readUInt16BE(offset + 2) + 1) * 4;
  }
  return false;
}

async function bindPair(): Promise<[Socket, Socket]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = 40000 + 2 * Math.floor(Math.random() * 2500);
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    try {
      await bind(rtp, port);
      await bind(rtcp, port + 1);
      return [rtp, rtcp];
    } catch {
      rtp.close();
      rtcp.close();
    }
  }
  throw new Error('no free port pair for a terminal');
}

function bind(socket: Socket, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.setRecvBufferSize(2 ** 21);
      socket.setSendBufferSize(2 ** 21);
      resolve();
    });
  });
}

interface Leg {
  video: [Socket, Socket];
  audio: [Socket, Socket];
  sendVideo?: PacedStream;
  sendAudio?: PacedStream;
  outVideo: VideoArrivals;
  outAudio: ToneArrivals;
  inVideo: VideoArrivals;
  inAudio: StreamCounter;
}

/** The load generator: what the parent process tells it, and its report. */
class Load {
  private readonly legs: Leg[] = [];
  private readonly byConsumerSsrc = new Map<number, (packet: Buffer, at: number) => void>();
  private speakerVideo?: PacedStream;
  private speakerAudio?: PacedStream;
  private keyFrameRequests = 0;
  private windowStart = new Map<StreamCounter, { packets: number; expected: number }>();
  private windowEnd?: Map<StreamCounter, { packets: number; expected: number }>;
  private readonly timer = setInterval(() => this.tick(), TICK_MS);
  private readonly terminalFrames: ReturnType<typeof indexFrames>;
  private readonly speakerFrames: ReturnType<typeof indexFrames>;

  private constructor(
    private readonly clips: LoadClips,
    private readonly consumerSocket: Socket,
    private readonly speakerSocket: Socket,
  ) {
    this.terminalFrames = indexFrames(clips.terminalVideo);
    this.speakerFrames = indexFrames(clips.speakerVideo);
    consumerSocket.on('message', (packet) => {
      if (packet.length < 12 || isRtcp(packet)) return;
      this.byConsumerSsrc.get(packet.readUInt32BE(8))?.(packet, epochMs());
    });
    speakerSocket.on('message', (packet) => {
      if (isRtcp(packet) && asksKeyFrame(packet)) this.speakerVideo?.keyFrameRequested();
    });
  }

  static async start(legCount: number, clips: LoadClips): Promise<Load> {
    const consumerSocket = createSocket('udp4');
    const speakerSocket = createSocket('udp4');
    await bind(consumerSocket, 0);
    await bind(speakerSocket, 0);
    consumerSocket.setRecvBufferSize(2 ** 22);
    const load = new Load(clips, consumerSocket, speakerSocket);
    for (let index = 0; index < legCount; index++) load.legs.push(await load.openLeg(index));
    return load;
  }

  get ready(): LoadEvent {
    return {
      type: 'ready',
      legs: this.legs.map((leg) => ({ videoPort: leg.video[0].address().port, audioPort: leg.audio[0].address().port })),
      consumerPort: this.consumerSocket.address().port,
      speakerPort: this.speakerSocket.address().port,
    };
  }

  handle(command: LoadCommand): LoadEvent | undefined {
    switch (command.type) {
      case 'speaker': {
        const { speakerVideo, speakerAudio, toneIntervalS } = this.clips;
        // The tone sounds for the first quarter of each interval (see SPEAKER_AUDIO_SPEC in sipScenario.ts).
        const packetsPerInterval = Math.round((toneIntervalS * speakerAudio.clockRate) / (speakerAudio.durationTs / speakerAudio.packets.length));
        const loud = (index: number) => index % packetsPerInterval < packetsPerInterval / 4;
        this.speakerVideo = new PacedStream(speakerVideo, command.video, this.speakerSocket, this.speakerFrames.frameOf, () => false, () => false);
        this.speakerAudio = new PacedStream(speakerAudio, command.audio, this.speakerSocket, [], (index) => index % packetsPerInterval === 0, loud);
        return undefined;
      }
      case 'call': {
        const leg = this.legs[command.leg]!;
        const { terminalVideo, terminalAudio } = this.clips;
        leg.sendVideo = new PacedStream(terminalVideo, command.video, leg.video[0], this.terminalFrames.frameOf, () => false, () => false);
        leg.sendAudio = new PacedStream(terminalAudio, command.audio, leg.audio[0], [], () => false, () => false);
        return undefined;
      }
      case 'consume': {
        const leg = this.legs[command.leg]!;
        this.byConsumerSsrc.set(
          command.ssrc,
          command.kind === 'video'
            ? (packet, at) => leg.inVideo.onPacket(packet, at)
            : (packet, at) => leg.inAudio.record(packet.readUInt16BE(2), at),
        );
        return undefined;
      }
      case 'keyFrame':
        this.keyFrameRequests++;
        this.legs[command.leg]?.sendVideo?.keyFrameRequested();
        return undefined;
      case 'windowStart':
        this.windowStart = this.snapshot();
        return undefined;
      case 'windowEnd':
        this.windowEnd = this.snapshot();
        return undefined;
      case 'report':
        return { type: 'report', report: this.report(command.from, command.to) };
      case 'stop':
        this.close();
        return undefined;
      case 'init':
        throw new Error('init comes once');
    }
  }

  private async openLeg(index: number): Promise<Leg> {
    const leg: Leg = {
      video: await bindPair(),
      audio: await bindPair(),
      outVideo: new VideoArrivals(index),
      outAudio: new ToneArrivals(index),
      inVideo: new VideoArrivals(index),
      inAudio: new StreamCounter(index, 'audio', ''),
    };
    leg.video[0].on('message', (packet) => {
      if (packet.length >= 12 && !isRtcp(packet)) leg.outVideo.onPacket(packet, epochMs());
    });
    leg.audio[0].on('message', (packet) => {
      if (packet.length >= 12 && !isRtcp(packet)) leg.outAudio.onPacket(packet, epochMs());
    });
    leg.video[1].on('message', (packet) => {
      if (asksKeyFrame(packet)) {
        this.keyFrameRequests++;
        leg.sendVideo?.keyFrameRequested();
      }
    });
    return leg;
  }

  private tick(): void {
    const now = performance.now();
    this.speakerVideo?.sendDue(now);
    this.speakerAudio?.sendDue(now);
    for (const leg of this.legs) {
      leg.sendVideo?.sendDue(now);
      leg.sendAudio?.sendDue(now);
    }
  }

  private counters(): StreamCounter[] {
    return this.legs.flatMap((leg) => [leg.inVideo.counter, leg.inAudio, leg.outVideo.counter, leg.outAudio.counter]);
  }

  private snapshot(): Map<StreamCounter, { packets: number; expected: number }> {
    return new Map(this.counters().map((counter) => [counter, { packets: counter.packets, expected: counter.expected }]));
  }

  /** Packets received in the window, and lost by the sequence numbers. */
  private since(counter: StreamCounter): { received: number; lost: number } {
    const start = this.windowStart.get(counter) ?? { packets: 0, expected: 0 };
    const end = this.windowEnd?.get(counter) ?? { packets: counter.packets, expected: counter.expected };
    const received = end.packets - start.packets;
    return { received, lost: Math.max(0, end.expected - start.expected - received) };
  }

  private report(from: number, to: number): LoadReport {
    const within = (at: number) => at >= from && at <= to;
    const speakerKeyFrames = (this.speakerVideo?.sent ?? []).filter((frame) => frame.keyFrame).map((frame) => frame.at);
    const speakerOnsets = (this.speakerAudio?.sent ?? []).map((onset) => onset.at);
    const legs = this.legs.map((leg): LegReport => {
      const sent = (leg.sendVideo?.sent ?? []).filter((frame) => within(frame.at));
      const sentByFrame = new Map<number, number[]>();
      for (const frame of leg.sendVideo?.sent ?? []) sentByFrame.set(frame.frame, [...(sentByFrame.get(frame.frame) ?? []), frame.at]);
      const inLatencies: number[] = [];
      let unmatched = 0;
      for (const frame of leg.inVideo.frames) {
        const clipFrame = frame.fingerprint === undefined ? undefined : this.terminalFrames.byFingerprint.get(frame.fingerprint);
        if (clipFrame === undefined || clipFrame < 0) {
          if (within(frame.at)) unmatched++;
          continue;
        }
        const sentAt = latestBefore(sentByFrame.get(clipFrame) ?? [], frame.at);
        if (sentAt !== undefined && within(sentAt)) inLatencies.push(frame.at - sentAt);
      }
      const outKeyFrames = leg.outVideo.frames.filter((frame) => frame.keyFrame && within(frame.at));
      return {
        inFramesSent: sent.length,
        inFramesArrived: inLatencies.length,
        inLatenciesMs: inLatencies,
        inFramesUnmatched: unmatched,
        inVideoPackets: this.since(leg.inVideo.counter),
        inAudioPackets: this.since(leg.inAudio),
        outVideoFrames: leg.outVideo.frames.filter((frame) => within(frame.at)).length,
        outKeyFrames: outKeyFrames.length,
        // Each key frame of the speaker's camera makes the encoder send one (-force_key_frames source).
        outVideoLatenciesMs: matchToLatest(outKeyFrames.map((frame) => frame.at), speakerKeyFrames, this.clips.keyFrameIntervalS * 1000),
        outAudioLatenciesMs: matchToLatest(leg.outAudio.onsets.filter(within), speakerOnsets, this.clips.toneIntervalS * 1000),
        outVideoPackets: this.since(leg.outVideo.counter),
        outAudioPackets: this.since(leg.outAudio.counter),
      };
    });
    return {
      legs,
      speakerKeyFramesSent: speakerKeyFrames.filter(within).length,
      speakerTonesSent: speakerOnsets.filter(within).length,
      keyFrameRequests: this.keyFrameRequests,
    };
  }

  private close(): void {
    clearInterval(this.timer);
    for (const leg of this.legs) for (const socket of [...leg.video, ...leg.audio]) socket.close();
    this.consumerSocket.close();
    this.speakerSocket.close();
  }
}

/** The latest of `times` (ascending) at or before `at`. */
function latestBefore(times: number[], at: number): number | undefined {
  let found: number | undefined;
  for (const time of times) {
    if (time > at) break;
    found = time;
  }
  return found;
}

/** For each arrival, the time since the latest send before it, if that is within `withinMs`. */
function matchToLatest(arrivals: number[], sends: number[], withinMs: number): number[] {
  return arrivals.flatMap((at) => {
    const sentAt = latestBefore(sends, at);
    return sentAt !== undefined && at - sentAt < withinMs ? [at - sentAt] : [];
  });
}

/** Buffers arrive over IPC as Uint8Arrays: clips back to Buffers. */
function revive(clip: Clip): Clip {
  return { ...clip, packets: clip.packets.map((packet) => ({ ...packet, payload: Buffer.from(packet.payload) })) };
}

// The load process's entry point (sipLoadProcess.ts forks this file), not when imported.
if (process.send && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let load: Load | undefined;
  process.on('message', (command: LoadCommand) => {
    void (async () => {
      if (command.type === 'init') {
        const { clips } = command;
        const revived = { ...clips, terminalVideo: revive(clips.terminalVideo), terminalAudio: revive(clips.terminalAudio), speakerVideo: revive(clips.speakerVideo), speakerAudio: revive(clips.speakerAudio) };
        load = await Load.start(command.legs, revived);
        process.send!(load.ready);
        return;
      }
      const event = load?.handle(command);
      if (event) process.send!(event);
      if (command.type === 'stop') process.disconnect();
    })().catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  });
}
