import { parseAvcConfig, type H264Profile } from './avc.js';

export type VideoCodec = 'h264' | 'hevc' | 'other';

/** A publisher's video, as its sequence header (or first frame, for codecs not read here) says. */
export interface VideoInfo {
  codec: VideoCodec;
  /** The FLV codec id (7 H.264, 12 HEVC) or the enhanced-RTMP FourCC ('hvc1', 'av01', …). */
  codecId: number | string;
  /** H.264 only, from the AVCDecoderConfigurationRecord. */
  profile?: H264Profile;
  /** H.264 only: profile_idc, constraint flags and level_idc as 6 hex digits. */
  profileLevelId?: string;
  /** From the H.264 SPS; for other codecs (or an SPS not read) from onMetaData, if it says. */
  width?: number;
  height?: number;
  /** Turns true at the first frame with a composition time offset: frames come out of display order. */
  hasBFrames: boolean;
}

/** What one FLV video tag body carries. */
export interface VideoTag {
  codecId: number | string;
  keyFrame: boolean;
  /** A sequence header configures the decoder; a frame is coded video; anything else carries neither. */
  packet: 'sequence header' | 'frame' | 'other';
  /** Presentation minus decode time (ms). */
  compositionTime: number;
  /** The codec's part: the decoder configuration record of a sequence header, a frame's NAL units. */
  body: Buffer;
}

/** FLV codec ids and frame types of the legacy header (a command frame carries no picture). */
const Codec = { H264: 7, HEVC: 12 } as const;
const Frame = { Key: 1, Command: 5 } as const;
/** Enhanced RTMP: the first byte's top bit, and packet types (CodedFramesX: no composition time offset, it is zero). */
const EX_HEADER = 0x80;
const ExPacket = { SequenceStart: 0, CodedFrames: 1, CodedFramesX: 3 } as const;

/** Reads a video tag's header, legacy FLV or enhanced RTMP; undefined for a tag too short to have one. */
export function parseVideoTag(data: Buffer): VideoTag | undefined {
  if (data.length < 1) return undefined;
  const first = data[0]!;
  if (first & EX_HEADER) return parseEnhancedVideoTag(data);
  const frameType = first >> 4;
  const codecId = first & 0x0f;
  const keyFrame = frameType === Frame.Key;
  if (codecId !== Codec.H264 && codecId !== Codec.HEVC) {
    return { codecId, keyFrame, packet: frameType === Frame.Command ? 'other' : 'frame', compositionTime: 0, body: data.subarray(1) };
  }
  if (data.length < 5) return undefined;
  const packet = data[1] === 0 ? 'sequence header' : data[1] === 1 && frameType !== Frame.Command ? 'frame' : 'other';
  return { codecId, keyFrame, packet, compositionTime: data.readIntBE(2, 3), body: data.subarray(5) };
}

function parseEnhancedVideoTag(data: Buffer): VideoTag | undefined {
  if (data.length < 5) return undefined;
  const frameType = (data[0]! >> 4) & 0x07;
  const packetType = data[0]! & 0x0f;
  const codecId = data.toString('latin1', 1, 5);
  const tag = { codecId, keyFrame: frameType === Frame.Key, compositionTime: 0, body: data.subarray(5) };
  if (packetType === ExPacket.SequenceStart) return { ...tag, packet: 'sequence header' };
  const coded = packetType === ExPacket.CodedFrames || packetType === ExPacket.CodedFramesX;
  if (!coded || frameType === Frame.Command) return { ...tag, packet: 'other' };
  // AVC and HEVC frames carry a composition time offset, except in CodedFramesX (where it is zero).
  const withOffset = packetType === ExPacket.CodedFrames && (codecId === 'avc1' || codecId === 'hvc1');
  if (!withOffset) return { ...tag, packet: 'frame' };
  if (data.length < 8) return undefined;
  return { ...tag, packet: 'frame', compositionTime: data.readIntBE(5, 3), body: data.subarray(8) };
}

/**
 * What a sequence header (or, for codecs not read here, a first frame) says of the video. Width
 * and height come from the H.264 SPS, else from `fallbackSize` (onMetaData).
 */
export function videoInfo(tag: VideoTag, fallbackSize: { width?: number; height?: number }): VideoInfo {
  const codec = videoCodec(tag.codecId);
  if (codec !== 'h264' || tag.packet !== 'sequence header') return { codec, codecId: tag.codecId, ...fallbackSize, hasBFrames: false };
  try {
    const config = parseAvcConfig(tag.body);
    return { codec, codecId: tag.codecId, ...fallbackSize, ...config, hasBFrames: false };
  } catch {
    return { codec, codecId: tag.codecId, ...fallbackSize, hasBFrames: false };
  }
}

function videoCodec(codecId: number | string): VideoCodec {
  if (codecId === Codec.H264 || codecId === 'avc1') return 'h264';
  if (codecId === Codec.HEVC || codecId === 'hvc1') return 'hevc';
  return 'other';
}
