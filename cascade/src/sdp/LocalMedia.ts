import type { Direction } from './SessionDescription.js';

export type AudioCodecName = 'opus' | 'G722' | 'PCMA' | 'PCMU';

/** Whether SIP media may or must be SRTP keyed by SDES (`a=crypto`). */
export type SrtpPolicy = 'off' | 'optional' | 'required';

/** What our side of a SIP leg can do: the input of answerOffer and createOffer. */
export interface LocalMedia {
  /** Our media address (IPv4 or IPv6), written in o= and c=. */
  address: string;
  /** Audio we send and receive; without it audio m-lines are refused. */
  audio?: {
    /** Our RTP port; RTCP is on port + 1 unless RTCP is multiplexed. */
    port: number;
    /** Codecs in our order of preference (default opus, G722, PCMA, PCMU). */
    codecs?: AudioCodecName[];
    /** RFC 4733 DTMF (events 0-15); default true. */
    telephoneEvent?: boolean;
  };
  /** H.264 video (packetization-mode 1); without it video m-lines are refused. */
  video?: {
    port: number;
    /** The profile-level-ids we receive, in our order of preference (default 42e01f, 4d001f, 640028). */
    h264ProfileLevelIds?: string[];
  };
  /** Accept (and offer) RTCP multiplexed on the RTP port; default false. */
  rtcpMux?: boolean;
  /** The video bit rate we receive at most (b=AS, kbit/s), and the most we send. */
  maxBandwidthKbps?: number;
  /** Default 'optional': SRTP when the peer keys it, plain RTP otherwise. */
  srtp?: SrtpPolicy;
  /** Our direction, e.g. 'sendonly' to put the peer on hold; default sendrecv. */
  direction?: Direction;
  /** o= session id; default a random one (kept across re-INVITEs through `previous`). */
  sessionId?: string;
}

export const DEFAULT_AUDIO_CODECS: readonly AudioCodecName[] = ['opus', 'G722', 'PCMA', 'PCMU'];
/** The router's H.264 profiles (sfu/src/codecs.ts). */
export const DEFAULT_H264_PROFILE_LEVEL_IDS: readonly string[] = ['42e01f', '4d001f', '640028'];
