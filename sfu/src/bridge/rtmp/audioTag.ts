export type AudioCodec = 'pcm' | 'adpcm' | 'mp3' | 'nellymoser' | 'g711a' | 'g711u' | 'aac' | 'speex' | 'other';

/** A publisher's audio, as its first audio tag (and for AAC, its AudioSpecificConfig) says. */
export interface AudioInfo {
  codec: AudioCodec;
  /** The FLV SoundFormat (10 AAC, 2 MP3, …; 9 for an enhanced-RTMP FourCC codec). */
  soundFormat: number;
  /** Hz. For AAC from the AudioSpecificConfig, once it came; else the FLV header's rough rate. */
  sampleRate: number;
  channels: number;
}

/** What one FLV audio tag body carries. */
export interface AudioTag {
  info: AudioInfo;
  /** An AAC AudioSpecificConfig, which configures the decoder and is no audio frame. */
  isSequenceHeader: boolean;
}

const SOUND_FORMATS: Record<number, AudioCodec> = {
  0: 'pcm',
  1: 'adpcm',
  2: 'mp3',
  3: 'pcm',
  4: 'nellymoser',
  5: 'nellymoser',
  6: 'nellymoser',
  7: 'g711a',
  8: 'g711u',
  10: 'aac',
  11: 'speex',
  14: 'mp3',
};
const SOUND_FORMAT_AAC = 10;
const FLV_RATES = [5512, 11025, 22050, 44100];
/** MPEG-4 sampling_frequency_index (ISO 14496-3 1.6.3.4). */
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

/** Reads an audio tag's header; undefined for an empty tag. */
export function parseAudioTag(data: Buffer): AudioTag | undefined {
  if (data.length < 1) return undefined;
  const soundFormat = data[0]! >> 4;
  const info: AudioInfo = {
    codec: SOUND_FORMATS[soundFormat] ?? 'other',
    soundFormat,
    sampleRate: FLV_RATES[(data[0]! >> 2) & 3]!,
    channels: (data[0]! & 1) + 1,
  };
  const isSequenceHeader = soundFormat === SOUND_FORMAT_AAC && data[1] === 0;
  if (isSequenceHeader && data.length >= 4) Object.assign(info, audioSpecificConfig(data.subarray(2)));
  return { info, isSequenceHeader };
}

/** Sample rate and channels of an AAC AudioSpecificConfig, where it states them plainly. */
function audioSpecificConfig(config: Buffer): { sampleRate?: number; channels?: number } {
  const bits = config.readUInt16BE(0);
  const objectType = bits >> 11;
  if (objectType === 31) return {}; // an escaped object type shifts every field after it: rare, not read
  const rateIndex = (bits >> 7) & 0x0f;
  const channelConfig = (bits >> 3) & 0x0f;
  const sampleRate = AAC_RATES[rateIndex];
  return { ...(sampleRate ? { sampleRate } : {}), ...(channelConfig > 0 && channelConfig < 8 ? { channels: channelConfig === 7 ? 8 : channelConfig } : {}) };
}
