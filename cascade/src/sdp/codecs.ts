import { answerProfileLevelId, parseProfileLevelId, sameH264Profile, type ProfileLevelId } from './h264.js';
import { DEFAULT_AUDIO_CODECS, DEFAULT_H264_PROFILE_LEVEL_IDS, type AudioCodecName, type LocalMedia } from './LocalMedia.js';
import { codecOf, fmtpParameters, type Payload, type RtcpFeedback, type RtpMap } from './SessionDescription.js';

/** A codec we send and receive, with the payload type and fmtp we offer it with. */
export interface LocalCodec {
  rtpmap: RtpMap;
  payloadType: number;
  fmtp?: string;
  h264?: ProfileLevelId;
  /** H.264 only: 1 (FU-A, STAP-A; what browsers and mediasoup use) or 0 (one NAL unit per packet). */
  packetizationMode?: 0 | 1;
  /** How the 488 Warning names it. */
  label: string;
}

const AUDIO_CODECS: Record<AudioCodecName, LocalCodec> = {
  opus: { rtpmap: { encodingName: 'opus', clockRate: 48000, channels: 2 }, payloadType: 111, fmtp: 'useinbandfec=1', label: 'Opus/48000/2' },
  G722: { rtpmap: { encodingName: 'G722', clockRate: 8000 }, payloadType: 9, label: 'G.722' },
  PCMA: { rtpmap: { encodingName: 'PCMA', clockRate: 8000 }, payloadType: 8, label: 'PCMA' },
  PCMU: { rtpmap: { encodingName: 'PCMU', clockRate: 8000 }, payloadType: 0, label: 'PCMU' },
};

/** Dynamic payload types of our offers: H.264 from 96 on, telephone-event at 101 (8000 Hz) and 110 (48000 Hz). */
const FIRST_VIDEO_PAYLOAD_TYPE = 96;
export const TELEPHONE_EVENT_PAYLOAD_TYPES: ReadonlyMap<number, number> = new Map([
  [8000, 101],
  [48000, 110],
]);

/** RTCP feedback mediasoup answers on a PlainTransport: what we offer and keep when offered. */
export const SUPPORTED_FEEDBACK: readonly RtcpFeedback[] = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

const feedbackText = ({ type, parameter }: RtcpFeedback): string => (parameter ? `${type} ${parameter}` : type);

export function audioCodecs(local: LocalMedia): LocalCodec[] {
  return (local.audio?.codecs ?? DEFAULT_AUDIO_CODECS).map((name) => AUDIO_CODECS[name]);
}

/**
 * Our H.264 payloads: every profile in packetization-mode 1, in our order of preference, then the
 * Baseline ones again in mode 0 for older terminals and MCUs that take nothing else (we receive
 * mode 0 through ffmpeg and send it with single-NAL slices).
 */
export function videoCodecs(local: LocalMedia): LocalCodec[] {
  const profiles = (local.video?.h264ProfileLevelIds ?? DEFAULT_H264_PROFILE_LEVEL_IDS).map((text) => {
    const h264 = parseProfileLevelId(text);
    if (!h264) throw new RangeError(`"${text}" is not an H.264 profile-level-id we know`);
    return { profileLevelId: text.toLowerCase(), h264 };
  });
  const baseline = profiles.filter(({ h264 }) => h264.profile === 'baseline' || h264.profile === 'constrained-baseline');
  const variants = [...profiles.map((profile) => ({ ...profile, mode: 1 as const })), ...baseline.map((profile) => ({ ...profile, mode: 0 as const }))];
  return variants.map(({ profileLevelId, h264, mode }, index) => ({
    rtpmap: { encodingName: 'H264', clockRate: 90000 },
    payloadType: FIRST_VIDEO_PAYLOAD_TYPE + index,
    fmtp: h264Fmtp(profileLevelId, mode),
    h264,
    packetizationMode: mode,
    label: mode === 1 ? profileLevelId : `${profileLevelId} mode 0`,
  }));
}

function h264Fmtp(profileLevelId: string, packetizationMode: 0 | 1): string {
  return `profile-level-id=${profileLevelId};packetization-mode=${packetizationMode};level-asymmetry-allowed=1`;
}

/** Whether a peer's payload type is this codec (H.264: its packetization mode, in a profile we have). */
export function isLocalCodec(codec: LocalCodec, payload: Payload): boolean {
  const remote = codecOf(payload);
  if (!remote || remote.encodingName.toLowerCase() !== codec.rtpmap.encodingName.toLowerCase() || remote.clockRate !== codec.rtpmap.clockRate) return false;
  // Opus is always /2 (RFC 7587); some peers leave the channels out.
  if (codec.rtpmap.encodingName !== 'opus' && (remote.channels ?? 1) !== (codec.rtpmap.channels ?? 1)) return false;
  if (!codec.h264) return true;
  const parameters = fmtpParameters(payload.fmtp);
  if ((parameters.get('packetization-mode') ?? '0') !== String(codec.packetizationMode ?? 1)) return false;
  const offered = parseProfileLevelId(parameters.get('profile-level-id'));
  return offered !== undefined && sameH264Profile(offered, codec.h264);
}

/**
 * Our fmtp answering a peer's payload type of this codec. H.264: the peer's profile at the level
 * we receive; a peer that names no profile gets ours.
 */
export function answerFmtp(codec: LocalCodec, payload: Payload): string | undefined {
  if (!codec.h264) return codec.fmtp;
  const parameters = fmtpParameters(payload.fmtp);
  const offeredText = parameters.get('profile-level-id');
  const offered = parseProfileLevelId(offeredText);
  if (!offeredText || !offered) return codec.fmtp;
  return h264Fmtp(answerProfileLevelId(offered, codec.h264, parameters.get('level-asymmetry-allowed') === '1'), codec.packetizationMode ?? 1);
}

export function isTelephoneEvent(payload: Payload): boolean {
  return codecOf(payload)?.encodingName.toLowerCase() === 'telephone-event';
}

/** The feedback of a peer's payload type (its own and `*`) that we support too, without repeats. */
export function supportedFeedback(payload: Payload, all: RtcpFeedback[]): RtcpFeedback[] {
  const offered = new Set([...payload.rtcpFeedback, ...all].map(feedbackText));
  return SUPPORTED_FEEDBACK.filter((feedback) => offered.has(feedbackText(feedback)));
}

/** What we take, in words, for a 488 Warning header. */
export function describeSupport(local: LocalMedia): string {
  const parts: string[] = [];
  if (local.audio) {
    const events = local.audio.telephoneEvent === false ? '' : ' and telephone-event';
    parts.push(`audio ${audioCodecs(local).map(({ label }) => label).join(', ')}${events}`);
  }
  if (local.video) parts.push(`video H.264 profile-level-id ${videoCodecs(local).map(({ label }) => label).join(', ')} (packetization-mode 1 unless said)`);
  const srtp = { off: 'plain RTP', optional: 'RTP or SDES-SRTP', required: 'SDES-SRTP only' }[local.srtp ?? 'optional'];
  return `${parts.join('; ') || 'no media'} over RTP/AVP or RTP/AVPF (${srtp}, AES_CM_128_HMAC_SHA1_80/32)`;
}
