// The media every bot replays: a VP8 camera clip and an Opus microphone clip, encoded once with
// ffmpeg and captured as RTP packets (ffmpeg's own RTP packetiser, sent to a UDP socket we read).
// Cached as JSON in the OS temp directory, keyed by the encoder settings. loadClip() does the same
// for another benchmark's own settings (VP8 or H.264 video, Opus).
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FFMPEG = '/usr/bin/ffmpeg';
export const CLIP_SECONDS = 10;

export interface ClipPacket {
  /** Offset from the clip's start, in RTP clock units. */
  tsOffset: number;
  marker: boolean;
  /** First packet of a VP8 key frame (where a PLI may restart playback). */
  keyFrameStart: boolean;
  payload: Buffer;
}

export interface Clip {
  kind: 'audio' | 'video';
  clockRate: number;
  /** Length of one loop in RTP clock units (the next loop starts here). */
  durationTs: number;
  packets: ClipPacket[];
}

export interface MediaClips {
  audio: Clip;
  video: Clip;
}

export interface ClipSpec {
  kind: 'audio' | 'video';
  /** How video key frames are told apart in the RTP payload (default VP8). */
  videoCodec?: 'vp8' | 'h264';
  clockRate: number;
  /** One frame's duration in clock units (the gap between the last frame and the loop's start). */
  frameTs: number;
  args: string[];
}

const VIDEO_SPEC: ClipSpec = {
  kind: 'video',
  clockRate: 90000,
  frameTs: 6000,
  // 640×360, 15 fps, ~300 kbps, a key frame every 2 s (30 frames): CLIP_SECONDS loops on a key frame.
  args: ['-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=15', '-t', `${CLIP_SECONDS}`, '-c:v', 'libvpx', '-b:v', '300k',
    '-g', '30', '-keyint_min', '30', '-deadline', 'realtime', '-cpu-used', '8', '-auto-alt-ref', '0', '-error-resilient', '1'],
};

const AUDIO_SPEC: ClipSpec = {
  kind: 'audio',
  clockRate: 48000,
  frameTs: 960,
  args: ['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', `${CLIP_SECONDS}`, '-ac', '2', '-c:a', 'libopus',
    '-b:a', '32k', '-frame_duration', '20', '-application', 'voip'],
};

/** True when a VP8 RTP payload (RFC 7741) starts a key frame. */
export function isVp8KeyFrameStart(payload: Buffer): boolean {
  const descriptor = payload[0]!;
  const startOfPartition = (descriptor & 0x10) !== 0 && (descriptor & 0x07) === 0;
  if (!startOfPartition) return false;
  let offset = 1;
  if (descriptor & 0x80) {
    const extensions = payload[offset++]!;
    if (extensions & 0x80) offset += payload[offset]! & 0x80 ? 2 : 1; // PictureID, 7 or 15 bits
    if (extensions & 0x40) offset += 1; // TL0PICIDX
    if (extensions & 0x30) offset += 1; // TID / KEYIDX
  }
  return offset < payload.length && (payload[offset]! & 0x01) === 0;
}

/**
 * True when an H.264 RTP payload (RFC 6184) starts an IDR access unit: libx264 without global
 * headers puts SPS first in every key frame, alone or first in a STAP-A.
 */
export function isH264KeyFrameStart(payload: Buffer): boolean {
  const SPS = 7;
  const STAP_A = 24;
  const type = payload[0]! & 0x1f;
  return type === SPS || (type === STAP_A && payload.length > 3 && (payload[3]! & 0x1f) === SPS);
}

/** Runs ffmpeg as fast as it can into a UDP socket and keeps the RTP packets (none may be lost). */
async function capture(spec: ClipSpec): Promise<Clip> {
  const socket = createSocket('udp4');
  const packets: Buffer[] = [];
  socket.on('message', (message) => packets.push(message));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  socket.setRecvBufferSize(16 * 2 ** 20);
  try {
    const { port } = socket.address();
    const ffmpeg = spawn(FFMPEG, ['-hide_banner', '-loglevel', 'error', ...spec.args, '-payload_type', '100', '-ssrc', '1',
      '-f', 'rtp', `rtp://127.0.0.1:${port}?pkt_size=1200`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const code = await new Promise<number | null>((resolve, reject) => ffmpeg.once('error', reject).once('exit', resolve));
    if (code !== 0) throw new Error(`ffmpeg exited with ${code} while encoding the ${spec.kind} clip`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  } finally {
    socket.close();
  }
  const rtp = packets.filter((packet) => packet.length > 12 && (packet[1]! & 0x7f) === 100); // ffmpeg's payload type: not RTCP
  rtp.forEach((packet, i) => {
    if (i > 0 && ((packet.readUInt16BE(2) - rtp[i - 1]!.readUInt16BE(2)) & 0xffff) !== 1) {
      throw new Error(`the ${spec.kind} capture lost packets at #${i}: rerun (the machine was too busy)`);
    }
  });
  const firstTs = rtp[0]!.readUInt32BE(4);
  const clipPackets = rtp.map((packet): ClipPacket => {
    const payload = packet.subarray(12 + (packet[0]! & 0x0f) * 4);
    return {
      tsOffset: (packet.readUInt32BE(4) - firstTs) >>> 0,
      marker: (packet[1]! & 0x80) !== 0,
      keyFrameStart: spec.kind === 'video' && (spec.videoCodec === 'h264' ? isH264KeyFrameStart(payload) : isVp8KeyFrameStart(payload)),
      payload: Buffer.from(payload),
    };
  });
  if (spec.kind === 'video' && !clipPackets[0]!.keyFrameStart) throw new Error(`the ${spec.videoCodec ?? 'vp8'} clip does not start with a key frame`);
  return { kind: spec.kind, clockRate: spec.clockRate, durationTs: clipPackets.at(-1)!.tsOffset + spec.frameTs, packets: clipPackets };
}

interface StoredClip extends Omit<Clip, 'packets'> {
  packets: (Omit<ClipPacket, 'payload'> & { payload: string })[];
}

const DEFAULT_CACHE_DIR = join(tmpdir(), 'cityconf-bench-media');

/** One clip, from the cache or encoded now (a few seconds, once per machine and settings). */
export async function loadClip(spec: ClipSpec, cacheDir = DEFAULT_CACHE_DIR): Promise<Clip> {
  const ffmpegVersion = execFileSync(FFMPEG, ['-version'], { encoding: 'utf8' }).split('\n')[0];
  mkdirSync(cacheDir, { recursive: true });
  const key = createHash('sha256').update(JSON.stringify([spec, ffmpegVersion])).digest('hex').slice(0, 16);
  const file = join(cacheDir, `${spec.videoCodec ?? spec.kind}-${key}.json`);
  if (!existsSync(file)) {
    const clip = await capture(spec);
    const stored: StoredClip = { ...clip, packets: clip.packets.map((p) => ({ ...p, payload: p.payload.toString('base64') })) };
    writeFileSync(file, JSON.stringify(stored));
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as StoredClip;
  return { ...stored, packets: stored.packets.map((p) => ({ ...p, payload: Buffer.from(p.payload, 'base64') })) };
}

/** The bots' two clips. */
export async function loadMediaClips(cacheDir = DEFAULT_CACHE_DIR): Promise<MediaClips> {
  return { video: await loadClip(VIDEO_SPEC, cacheDir), audio: await loadClip(AUDIO_SPEC, cacheDir) };
}

/** The bots' microphone clip alone: Opus 48 kHz stereo, 32 kbit/s, 20 ms frames. */
export function loadAudioClip(cacheDir = DEFAULT_CACHE_DIR): Promise<Clip> {
  return loadClip(AUDIO_SPEC, cacheDir);
}
