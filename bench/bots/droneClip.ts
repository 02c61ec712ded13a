// The drone benchmark's clip: what a DJI-class drone pushes over RTMP — 1280×720 30 fps H.264 High
// without B-frames, a key frame every second, ~2.5 Mbit/s, and AAC — encoded once with ffmpeg
// into FLV (cached in the OS temp directory, keyed by the settings) and read back as FLV tags.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlvTagType } from '../../sfu/src/bridge/rtmp/flv.js';
import { parseVideoTag } from '../../sfu/src/bridge/rtmp/videoTag.js';

const FFMPEG = '/usr/bin/ffmpeg';
export const DRONE_CLIP_SECONDS = 10;
const FRAME_RATE = 30;

const ENCODE_ARGS = [
  '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${FRAME_RATE}`,
  '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
  '-t', String(DRONE_CLIP_SECONDS),
  '-c:v', 'libx264', '-profile:v', 'high', '-preset', 'veryfast', '-bf', '0', '-pix_fmt', 'yuv420p',
  '-g', String(FRAME_RATE), '-keyint_min', String(FRAME_RATE), '-sc_threshold', '0',
  '-b:v', '2500k', '-maxrate', '2500k', '-bufsize', '2500k',
  '-c:a', 'aac', '-b:a', '128k', '-ar', '48000', '-ac', '2',
  '-f', 'flv',
];

export interface FlvClipTag {
  type: FlvTagType;
  /** ms from the clip's start. */
  timestamp: number;
  /** The tag body, as an RTMP audio or video message carries it. */
  data: Buffer;
  /** A coded video frame (not a sequence header), and whether it is a key frame. */
  videoFrame: boolean;
  keyFrame: boolean;
}

export interface DroneClip {
  /** The AVC and AAC sequence headers, sent once before any frame. */
  headers: FlvClipTag[];
  /** Audio and video frames in FLV order. */
  frames: FlvClipTag[];
  /** One loop (ms): the next loop's timestamps start here. */
  loopMs: number;
}

function readFlvTags(flv: Buffer): FlvClipTag[] {
  const tags: FlvClipTag[] = [];
  for (let offset = flv.readUInt32BE(5) + 4; offset + 11 <= flv.length; ) {
    const type = flv[offset]! & 0x1f;
    const size = flv.readUIntBE(offset + 1, 3);
    const timestamp = flv.readUIntBE(offset + 4, 3) | (flv[offset + 7]! << 24);
    const data = flv.subarray(offset + 11, offset + 11 + size);
    offset += 11 + size + 4;
    if (type !== FlvTagType.Audio && type !== FlvTagType.Video) continue; // onMetaData: not needed to publish
    const video = type === FlvTagType.Video ? parseVideoTag(data) : undefined;
    const videoFrame = video?.packet === 'frame';
    tags.push({ type: type as FlvTagType, timestamp, data: Buffer.from(data), videoFrame, keyFrame: videoFrame && video!.keyFrame });
  }
  return tags;
}

/** True for an AAC sequence header (AudioSpecificConfig) or an AVC one. */
function isSequenceHeader(tag: FlvClipTag): boolean {
  return tag.type === FlvTagType.Audio ? (tag.data[0]! >> 4 === 10 && tag.data[1] === 0) : tag.data[1] === 0;
}

/** The clip, from the cache or encoded now (a few seconds, once per machine). */
export function loadDroneClip(cacheDir = join(tmpdir(), 'cityconf-bench-media')): DroneClip {
  const ffmpegVersion = execFileSync(FFMPEG, ['-version'], { encoding: 'utf8' }).split('\n')[0];
  const key = createHash('sha256').update(JSON.stringify([ENCODE_ARGS, ffmpegVersion])).digest('hex').slice(0, 16);
  const file = join(cacheDir, `drone-${key}.flv`);
  if (!existsSync(file)) {
    mkdirSync(cacheDir, { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...ENCODE_ARGS, partial], { stdio: ['ignore', 'ignore', 'inherit'] });
    renameSync(partial, file);
  }
  const tags = readFlvTags(readFileSync(file));
  const headers = tags.filter(isSequenceHeader);
  const frames = tags.filter((tag) => !isSequenceHeader(tag));
  if (!frames.find((tag) => tag.type === FlvTagType.Video)?.keyFrame) throw new Error(`${file}: the first video frame is not a key frame`);
  const last = (type: FlvTagType) => frames.filter((tag) => tag.type === type).at(-1)!.timestamp;
  // The next loop starts one frame after the later of the last video and the last audio frame.
  const loopMs = Math.max(last(FlvTagType.Video) + Math.ceil(1000 / FRAME_RATE), last(FlvTagType.Audio) + 22);
  return { headers, frames, loopMs };
}
