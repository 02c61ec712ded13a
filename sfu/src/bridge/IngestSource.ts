import { execFile } from 'node:child_process';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** What a pushed stream's first video tags say (an RTMP publisher's H.264 sequence header). */
export interface PushedVideo {
  codec: 'h264' | 'hevc' | 'other';
  /** ffprobe-style H.264 profile name: 'Constrained Baseline', 'Baseline', 'Main', 'High', … */
  profile?: string;
  width?: number;
  height?: number;
  /** Whether frames come out of order (B-frames), which WebRTC receivers do not expect. */
  hasBFrames: boolean;
}

/** One connection of a publisher that pushes FLV to us (the RTMP server hands these over). */
export interface PushedStream {
  readonly flv: Readable;
  /** The video's description once its first frames are in; undefined if none came in `timeoutMs`. */
  whenVideoKnown(timeoutMs: number): Promise<PushedVideo | undefined>;
  /** Whether audio has come (asked after whenVideoKnown: publishers send both headers first). */
  readonly hasAudio: boolean;
  close(reason: string): void;
}

/**
 * Where an ingest job reads a feed. push: a publisher pushes to the product's own RTMP server,
 * which authenticates its stream key and hands each connection over (`nextStream`); ffmpeg reads
 * the FLV from a pipe. rtmp-listen: ffmpeg waits for a publisher (DJI Pilot,
 * FlightHub, OBS) to push to rtmp://<host>:<port>/<path>; there is no other authentication than
 * the path, so make it an unguessable key. rtsp: pulled over TCP. srt: pulled or listened as the
 * URL says (`?mode=listener`), if this ffmpeg has SRT.
 */
export type IngestSource =
  | { kind: 'push'; /** Names the source in errors. */ name: string; nextStream(signal: AbortSignal): Promise<PushedStream> }
  | { kind: 'rtmp-listen'; port: number; path: string; /** Default 0.0.0.0: publishers are off this host. */ host?: string }
  | { kind: 'rtsp'; url: string }
  | { kind: 'srt'; url: string };

/** The video of a feed as the router will be told: H.264 profile, and whether ffmpeg re-encodes. */
export interface IngestVideoPlan {
  transcode: boolean;
  /** The router's profile-level-id (sfu/src/codecs.ts) the forwarded or re-encoded H.264 matches. */
  profileLevelId: string;
  /** Whether the feed has audio to forward as Opus. */
  audio: boolean;
  /** The picture size, when the source could be probed. */
  width?: number;
  height?: number;
}

/**
 * How forwarded H.264 is declared to receivers, by the profile ffprobe names; other profiles are
 * re-encoded. High is declared Main: Chromium's WebRTC stack negotiates only Constrained Baseline
 * and Main (Debian's Chromium lists no High), yet its decoder (FFmpeg, or the OS's with a software
 * fallback) decodes High, which is what drones send. Declared High, no browser could subscribe.
 */
const ROUTER_PROFILES: Record<string, string> = {
  'Constrained Baseline': '42e01f',
  Baseline: '42e01f',
  Main: '4d001f',
  High: '4d001f',
};
/** What transcoding produces (libx264 baseline). */
export const TRANSCODED_PROFILE_LEVEL_ID = '42e01f';
/**
 * A pushed feed is not probed before it comes, so its H.264 is declared as forwarded High is
 * (Main, see ROUTER_PROFILES); Baseline and Main pushes are decoded the same way.
 */
const UNPROBED_PROFILE_LEVEL_ID = ROUTER_PROFILES.High!;
const PROBE_TIMEOUT_MS = 10_000;
/**
 * How much of a feed ffmpeg and ffprobe read before they start (µs): the time to first frame. Two
 * seconds holds a key frame of a 2 s GOP; H.264 whose profile is not found by then is re-encoded.
 */
const ANALYZE_DURATION_US = 2_000_000;

/** An RTSP camera silent for this long is read again (µs, ffmpeg's socket I/O timeout). */
const RTSP_STALL_TIMEOUT_US = 10_000_000;

export class IngestSourceError extends Error {
  override name = 'IngestSourceError';
}

/** ffmpeg's (and ffprobe's) input arguments for `source`. */
export function inputArgs(source: IngestSource): string[] {
  const analyze = ['-analyzeduration', String(ANALYZE_DURATION_US)];
  switch (source.kind) {
    case 'push':
      return [...analyze, '-f', 'flv', '-i', 'pipe:0'];
    case 'rtmp-listen':
      return [...analyze, '-listen', '1', '-i', `rtmp://${source.host ?? '0.0.0.0'}:${source.port}/${source.path}`];
    case 'rtsp':
      // A camera that stalls (connection open, nothing sent) ends the run instead of hanging it.
      return [...analyze, '-rtsp_transport', 'tcp', '-timeout', String(RTSP_STALL_TIMEOUT_US), '-i', source.url];
    case 'srt':
      return [...analyze, '-i', source.url];
  }
}

/** Throws IngestSourceError when this ffmpeg cannot read `source` at all. */
export async function assertSupported(source: IngestSource, ffmpegPath = 'ffmpeg'): Promise<void> {
  if (source.kind !== 'srt') return;
  const { stdout } = await run(ffmpegPath, ['-hide_banner', '-protocols']);
  const inputs = stdout.split(/^Output:/m)[0] ?? '';
  if (!/^\s*srt\s*$/m.test(inputs)) {
    throw new IngestSourceError(`${ffmpegPath} was built without SRT (libsrt): it cannot read ${source.url}`);
  }
}

/**
 * Decides how the video travels. Pull sources are probed: H.264 in a profile the router offers and
 * without B-frames is forwarded as it is, anything else re-encoded. A listened RTMP feed cannot be
 * probed (probing would take the publisher's connection) and is forwarded, unless `transcode`.
 */
export async function planVideo(source: IngestSource, transcode: boolean, ffprobePath = 'ffprobe'): Promise<IngestVideoPlan> {
  if (source.kind === 'rtmp-listen' || source.kind === 'push') {
    return { transcode, profileLevelId: transcode ? TRANSCODED_PROFILE_LEVEL_ID : UNPROBED_PROFILE_LEVEL_ID, audio: true };
  }
  const streams = await probe(source, ffprobePath);
  const video = streams.find((stream) => stream.codec_type === 'video');
  if (!video) throw new IngestSourceError(`${describe(source)} has no video stream`);
  const audio = streams.some((stream) => stream.codec_type === 'audio');
  const { width, height } = video;
  assertFeedSize(width, height);
  const profileLevelId = video.codec_name === 'h264' && !video.has_b_frames ? ROUTER_PROFILES[video.profile ?? ''] : undefined;
  if (transcode || !profileLevelId) return { transcode: true, profileLevelId: TRANSCODED_PROFILE_LEVEL_ID, audio, width, height };
  return { transcode: false, profileLevelId, audio, width, height };
}

interface ProbedStream {
  codec_type: string;
  codec_name?: string;
  profile?: string;
  has_b_frames?: number;
  width?: number;
  height?: number;
}

async function probe(source: IngestSource, ffprobePath: string): Promise<ProbedStream[]> {
  const args = ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,profile,has_b_frames,width,height', '-of', 'json'];
  try {
    const { stdout } = await run(ffprobePath, [...args, ...inputArgs(source)], { timeout: PROBE_TIMEOUT_MS });
    return (JSON.parse(stdout) as { streams?: ProbedStream[] }).streams ?? [];
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new IngestSourceError(`could not probe ${describe(source)}: ${reason}`);
  }
}

/** Whether a pushed video can be forwarded as it is, or why it must be re-encoded. */
export function pushedVideoPlan(video: PushedVideo | undefined): { transcode: boolean; why?: string } {
  if (!video) return { transcode: true, why: 'no video description arrived in time' };
  if (video.codec !== 'h264') return { transcode: true, why: `the video is ${video.codec}, not H.264` };
  if (video.hasBFrames) return { transcode: true, why: 'the H.264 has B-frames' };
  if (!ROUTER_PROFILES[video.profile ?? '']) return { transcode: true, why: `H.264 profile ${video.profile ?? 'unknown'} is not forwarded` };
  return { transcode: false };
}

/** The largest picture a feed may have: what browsers' hardware and software H.264 decoders take. */
export const MAX_FEED_PIXELS = 4096 * 2304;

/** Throws IngestSourceError for a picture larger than MAX_FEED_PIXELS. */
export function assertFeedSize(width: number | undefined, height: number | undefined): void {
  if (width !== undefined && height !== undefined && width * height > MAX_FEED_PIXELS) {
    throw new IngestSourceError(`the video is ${width}x${height}: larger than 4096x2304; send 1080p or 4K at most`);
  }
}

function describe(source: IngestSource): string {
  if (source.kind === 'push') return source.name;
  return source.kind === 'rtmp-listen' ? `rtmp port ${source.port}` : source.url;
}
