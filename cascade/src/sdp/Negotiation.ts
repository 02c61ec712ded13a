import type { SrtpSuite } from './sdes.js';
import type { Direction, RtcpFeedback, RtpProto, SessionDescription } from './SessionDescription.js';

/** The outcome of an offer/answer exchange: our SDP and what flows on each media kind. */
export interface Negotiation {
  /** Our SDP body of the exchange (the answer we send, or the offer we sent). */
  sdp: string;
  /** `sdp` parsed; its origin carries the session id and version the next exchange continues. */
  session: SessionDescription;
  audio?: NegotiatedMedia;
  video?: NegotiatedMedia;
  /** m-lines refused (port 0), with why. */
  rejected: RejectedMedia[];
}

export interface RejectedMedia {
  /** The m-line's position in the offer. */
  index: number;
  media: string;
  reason: string;
}

export interface NegotiatedMedia {
  kind: 'audio' | 'video';
  index: number;
  proto: RtpProto;
  /** Where we send RTP and RTCP; address 0.0.0.0 means the peer is on hold (send nothing). */
  remote: { address: string; port: number; rtcpAddress: string; rtcpPort: number };
  local: { port: number; rtcpPort: number };
  rtcpMux: boolean;
  payloadType: number;
  codec: NegotiatedCodec;
  telephoneEvent?: { payloadType: number; clockRate: number; events: number[] };
  /** RTCP feedback both sides use (nack, nack pli, ccm fir). */
  rtcpFeedback: RtcpFeedback[];
  /** Our direction: `recvonly` when the peer holds us, `inactive` when neither side sends. */
  direction: Direction;
  srtp?: NegotiatedSrtp;
  /** The peer's b=AS (or b=TIAS) capped by our maximum, kbit/s: the most we should send. */
  bandwidthKbps?: number;
}

export interface NegotiatedCodec {
  name: string;
  clockRate: number;
  channels?: number;
  /** The peer's fmtp for the payload type, as key/value pairs (keys lower-cased). */
  parameters: Record<string, string>;
  /** Our fmtp for it, as written in our SDP. */
  localFmtp?: string;
}

export interface NegotiatedSrtp {
  suite: SrtpSuite;
  tag: number;
  /** Base64 of the peer's 30-byte master key and salt: what we decrypt with. */
  remoteKey: string;
  /** Base64 of ours: what we encrypt with. */
  localKey: string;
}
