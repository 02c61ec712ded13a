/** A parsed SDP body (RFC 4566) with the attributes SIP media negotiation reads typed. */
export interface SessionDescription {
  origin: Origin;
  sessionName: string;
  /** Session-level c=, the default for media without their own. */
  connection?: Connection;
  bandwidths: Bandwidth[];
  timing: { start: string; stop: string };
  /** Session-level direction attribute, if any; media inherit it (already applied to `media[].direction`). */
  direction?: Direction;
  /** Session-level attributes other than the direction, as written. */
  attributes: Attribute[];
  /** i=, u=, e=, p=, k=, r=, z= and unknown lines, as written (session level). */
  otherLines: SdpLine[];
  media: MediaDescription[];
}

export interface Origin {
  username: string;
  sessionId: string;
  /** Kept as text: hardware uses values beyond 2^53. */
  sessionVersion: string;
  addressType: AddressType;
  address: string;
}

export type AddressType = 'IP4' | 'IP6';

export interface Connection {
  addressType: AddressType;
  address: string;
  /** Multicast TTL (IP4) and number of addresses, as in `c=IN IP4 224.2.1.1/127/3`. */
  ttl?: number;
  addressCount?: number;
}

/** b=AS and b=CT are kbit/s, b=TIAS bit/s (RFC 3890); other types are kept as given. */
export interface Bandwidth {
  type: string;
  value: number;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

export type MediaKind = 'audio' | 'video' | 'application' | 'other';

export type RtpProto = 'RTP/AVP' | 'RTP/AVPF' | 'RTP/SAVP' | 'RTP/SAVPF';

export interface MediaDescription {
  kind: MediaKind;
  /** The m-line's media token as written (`audio`, `image`, `text`…). */
  media: string;
  port: number;
  portCount?: number;
  /** One of RtpProto for RTP media; other transports (TCP/BFCP, udptl…) as written. */
  proto: string;
  formats: string[];
  connection?: Connection;
  bandwidths: Bandwidth[];
  /** Every numeric payload type, from the m-line in its order, then any only named by attributes. */
  payloads: Payload[];
  /** `a=rtcp-fb:*` entries, which apply to every payload type. */
  rtcpFeedbackAll: RtcpFeedback[];
  /** The media's direction attribute, else the session's, else sendrecv. */
  direction: Direction;
  rtcp?: RtcpAttribute;
  rtcpMux: boolean;
  crypto: CryptoAttribute[];
  ptime?: number;
  framerate?: number;
  /** RFC 4796 (`main`, `slides`, `alt`…); H.239 presentation lines carry `slides`. */
  content?: string;
  label?: string;
  ssrcs: SsrcAttribute[];
  /** Media-level attributes not listed above, as written. */
  attributes: Attribute[];
  /** i= and k= lines of the media, and unknown lines, as written. */
  otherLines: SdpLine[];
}

export interface Payload {
  payloadType: number;
  rtpmap?: RtpMap;
  /** The fmtp parameters as written (`profile-level-id=42e01f;packetization-mode=1`). */
  fmtp?: string;
  rtcpFeedback: RtcpFeedback[];
}

export interface RtpMap {
  encodingName: string;
  clockRate: number;
  channels?: number;
}

export interface RtcpFeedback {
  type: string;
  parameter?: string;
}

export interface RtcpAttribute {
  port: number;
  address?: string;
  addressType?: AddressType;
}

/** `a=crypto:<tag> <suite> <key-params> [<session-params>]` (RFC 4568), unvalidated beyond its shape. */
export interface CryptoAttribute {
  tag: number;
  suite: string;
  keyParams: string;
  sessionParams: string[];
}

/** `a=ssrc:<id> <attribute>[:<value>]` (RFC 5576). */
export interface SsrcAttribute {
  id: number;
  attribute: string;
  value?: string;
}

export interface Attribute {
  name: string;
  value?: string;
}

export interface SdpLine {
  type: string;
  value: string;
}

/** A payload type's codec: its rtpmap, else the RFC 3551 static assignment. */
export interface CodecName {
  encodingName: string;
  clockRate: number;
  channels?: number;
}

/** RFC 3551 static payload types (G.722 declares an 8000 Hz RTP clock though it samples at 16 kHz). */
const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, CodecName> = new Map(
  Object.entries({
    0: 'PCMU/8000/1', 3: 'GSM/8000/1', 4: 'G723/8000/1', 5: 'DVI4/8000/1', 6: 'DVI4/16000/1', 7: 'LPC/8000/1', 8: 'PCMA/8000/1',
    9: 'G722/8000/1', 10: 'L16/44100/2', 11: 'L16/44100/1', 12: 'QCELP/8000/1', 13: 'CN/8000/1', 14: 'MPA/90000', 15: 'G728/8000/1',
    16: 'DVI4/11025/1', 17: 'DVI4/22050/1', 18: 'G729/8000/1', 25: 'CelB/90000', 26: 'JPEG/90000', 28: 'nv/90000', 31: 'H261/90000',
    32: 'MPV/90000', 33: 'MP2T/90000', 34: 'H263/90000',
  }).map(([payloadType, text]) => {
    const [encodingName, clockRate, channels] = text.split('/') as [string, string, string | undefined];
    return [Number(payloadType), { encodingName, clockRate: Number(clockRate), ...(channels ? { channels: Number(channels) } : {}) }];
  }),
);

/** The codec a payload type stands for, or undefined for a dynamic type without rtpmap. */
export function codecOf(payload: Payload): CodecName | undefined {
  return payload.rtpmap ?? (payload.payloadType < 96 ? STATIC_PAYLOAD_TYPES.get(payload.payloadType) : undefined);
}

/** fmtp text as key/value pairs (`a=b;c=d`); keys lower-cased, a bare value (`0-15`) under key ''. */
export function fmtpParameters(fmtp: string | undefined): Map<string, string> {
  const parameters = new Map<string, string>();
  for (const pair of (fmtp ?? '').split(';')) {
    const text = pair.trim();
    if (!text) continue;
    const equals = text.indexOf('=');
    if (equals < 0) parameters.set('', text);
    else parameters.set(text.slice(0, equals).trim().toLowerCase(), text.slice(equals + 1).trim());
  }
  return parameters;
}

/** A media description with nothing but its m-line. */
export function emptyMedia(kind: MediaKind, media: string, port: number, proto: string): MediaDescription {
  return {
    kind,
    media,
    port,
    proto,
    formats: [],
    bandwidths: [],
    payloads: [],
    rtcpFeedbackAll: [],
    direction: 'sendrecv',
    rtcpMux: false,
    crypto: [],
    ssrcs: [],
    attributes: [],
    otherLines: [],
  };
}

/** The connection media are sent to: the media's c=, else the session's. */
export function connectionOf(session: SessionDescription, media: MediaDescription): Connection | undefined {
  return media.connection ?? session.connection;
}
