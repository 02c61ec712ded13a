import type { types as ms } from 'mediasoup';

/**
 * Codecs every meeting router offers. H.264 uses packetization-mode 1 only (what browsers send);
 * three profiles let browser, drone and MCU H.264 pass through without transcoding.
 */
export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  ...['42e01f', '4d001f', '640028'].map(
    (profileLevelId): ms.RtpCodecCapability => ({
      kind: 'video',
      mimeType: 'video/H264',
      clockRate: 90000,
      parameters: {
        'packetization-mode': 1,
        'profile-level-id': profileLevelId,
        'level-asymmetry-allowed': 1,
        'x-google-start-bitrate': 1000,
      },
    }),
  ),
];
