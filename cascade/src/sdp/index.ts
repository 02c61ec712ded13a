export { answerOffer } from './answerOffer.js';
export { createOffer, readAnswer, type LocalOffer } from './createOffer.js';
export {
  decodeTelephoneEvent,
  DTMF_EVENT_CODES,
  DTMF_KEYS,
  dtmfEvent,
  encodeTelephoneEvent,
  formatEventList,
  parseEventList,
  type TelephoneEvent,
} from './dtmf.js';
export { NoCommonCodecError, SdpError } from './errors.js';
export { parseProfileLevelId, type H264Profile, type ProfileLevelId } from './h264.js';
export { DEFAULT_AUDIO_CODECS, DEFAULT_H264_PROFILE_LEVEL_IDS, type AudioCodecName, type LocalMedia, type SrtpPolicy } from './LocalMedia.js';
export type { NegotiatedCodec, NegotiatedMedia, NegotiatedSrtp, Negotiation, RejectedMedia } from './Negotiation.js';
export { MAX_SDP_BYTES, parseSdp } from './parseSdp.js';
export { SRTP_SUITES, type SrtpSuite } from './sdes.js';
export { codecOf, connectionOf, fmtpParameters } from './SessionDescription.js';
export type * from './SessionDescription.js';
export { writeSdp } from './writeSdp.js';
