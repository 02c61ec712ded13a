/** FLV tag types: the same numbers as the RTMP message types that carry them. */
export const FlvTagType = { Audio: 8, Video: 9, ScriptData: 18 } as const;
export type FlvTagType = (typeof FlvTagType)[keyof typeof FlvTagType];

const TAG_HEADER_SIZE = 11;

/** The FLV file header and the first PreviousTagSize (0). */
export function flvHeader(hasAudio: boolean, hasVideo: boolean): Buffer {
  return Buffer.from([0x46, 0x4c, 0x56, 1, (hasAudio ? 4 : 0) | (hasVideo ? 1 : 0), 0, 0, 0, 9, 0, 0, 0, 0]);
}

/** One FLV tag and the PreviousTagSize after it. `timestamp` in ms, modulo 2^32. */
export function flvTag(type: FlvTagType, timestamp: number, data: Buffer): Buffer {
  const header = Buffer.alloc(TAG_HEADER_SIZE);
  header[0] = type;
  header.writeUIntBE(data.length, 1, 3);
  header.writeUIntBE(timestamp & 0xffffff, 4, 3);
  header[7] = timestamp >>> 24; // FLV keeps the top byte of the timestamp apart
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32BE(TAG_HEADER_SIZE + data.length);
  return Buffer.concat([header, data, trailer]);
}
