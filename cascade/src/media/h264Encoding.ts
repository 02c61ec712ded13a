import { parseProfileLevelId, type NegotiatedMedia } from '../sdp/index.js';

/** The video bit rate sent when the peer states none (kbit/s). */
const DEFAULT_VIDEO_KBPS = 1024;
/** Key frames at least this often (frames, about 2 s at 30 fps). */
const KEY_FRAME_INTERVAL_FRAMES = 60;
/** Mode 0 sends each NAL unit in one packet: slices must fit (bytes). */
const MODE0_SLICE_BYTES = 1100;

/**
 * libx264 arguments for the H.264 the peer negotiated: its profile and level, its bit rate, and
 * single-NAL packets when it takes packetization-mode 0. Low latency: ultrafast, zerolatency.
 */
export function h264EncoderArgs(video: NegotiatedMedia, keyFrames: string[]): string[] {
  const parsed = parseProfileLevelId(video.codec.parameters['profile-level-id']);
  const profile = parsed?.profile === 'high' || parsed?.profile === 'constrained-high' ? 'high' : parsed?.profile === 'main' ? 'main' : 'baseline';
  const level = parsed ? (parsed.levelIdc / 10).toFixed(1) : '3.1';
  const kbps = Math.round(0.9 * (video.bandwidthKbps ?? DEFAULT_VIDEO_KBPS));
  const mode0 = (video.codec.parameters['packetization-mode'] ?? '0') !== '1';
  return [
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p',
    '-profile:v', profile, '-level:v', level,
    '-b:v', `${kbps}k`, '-maxrate', `${kbps}k`, '-bufsize', `${Math.round(kbps / 2)}k`,
    '-g', String(KEY_FRAME_INTERVAL_FRAMES), ...keyFrames,
    ...(mode0 ? ['-x264-params', `slice-max-size=${MODE0_SLICE_BYTES}`, '-rtpflags', 'h264_mode0'] : []),
  ];
}
