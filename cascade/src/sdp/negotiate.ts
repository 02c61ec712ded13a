import { randomInt } from 'node:crypto';
import { DTMF_EVENT_CODES, parseEventList } from './dtmf.js';
import type { LocalMedia } from './LocalMedia.js';
import type { NegotiatedMedia, NegotiatedSrtp, Negotiation } from './Negotiation.js';
import { usableSdesKey, type SdesKey } from './sdes.js';
import {
  codecOf,
  connectionOf,
  emptyMedia,
  fmtpParameters,
  type Direction,
  type MediaDescription,
  type Payload,
  type RtcpFeedback,
  type RtpProto,
  type SessionDescription,
} from './SessionDescription.js';
import { writeSdp } from './writeSdp.js';
import { isTelephoneEvent } from './codecs.js';

const RTP_PROTOS = new Set<string>(['RTP/AVP', 'RTP/AVPF', 'RTP/SAVP', 'RTP/SAVPF']);

export function isRtpProto(proto: string): proto is RtpProto {
  return RTP_PROTOS.has(proto);
}

export function isSecureProto(proto: string): boolean {
  return proto.includes('/SAVP');
}

const SENDS: Record<Direction, boolean> = { sendrecv: true, sendonly: true, recvonly: false, inactive: false };
const RECEIVES: Record<Direction, boolean> = { sendrecv: true, sendonly: false, recvonly: true, inactive: false };

function direction(sends: boolean, receives: boolean): Direction {
  if (sends) return receives ? 'sendrecv' : 'sendonly';
  return receives ? 'recvonly' : 'inactive';
}

/**
 * Our direction facing a peer's: we send only where it receives and receive only where it
 * sends. A peer at 0.0.0.0 (RFC 2543 hold) receives nothing, whatever it writes.
 */
export function ourDirection(peer: Direction, peerAddress: string, local: LocalMedia): Direction {
  const ours = local.direction ?? 'sendrecv';
  const peerReceives = RECEIVES[peer] && peerAddress !== '0.0.0.0' && peerAddress !== '::';
  return direction(SENDS[ours] && peerReceives, RECEIVES[ours] && SENDS[peer]);
}

/** The payload types of the m-line's formats, in its order. */
export function offeredPayloads(media: MediaDescription): Payload[] {
  const formats = new Set(media.formats.map(Number));
  return media.payloads.filter(({ payloadType }) => formats.has(payloadType));
}

export function payloadNames(payloads: Payload[]): string {
  const names = payloads.map((payload) => {
    const codec = codecOf(payload);
    return codec ? `${codec.encodingName}/${codec.clockRate}` : `PT ${payload.payloadType} without rtpmap`;
  });
  return [...new Set(names)].join(', ') || 'none';
}

/** The telephone-event payload type to use beside a codec: same clock rate preferred, DTMF events only. */
export function telephoneEventFor(payloads: Payload[], clockRate: number): { payload: Payload; events: number[] } | undefined {
  const candidates = payloads.filter(isTelephoneEvent);
  const payload = candidates.find((candidate) => codecOf(candidate)?.clockRate === clockRate) ?? candidates[0];
  if (!payload) return undefined;
  const offered = parseEventList(payload.fmtp ?? '0-15') ?? [];
  const events = offered.filter((event) => DTMF_EVENT_CODES.includes(event));
  return events.length > 0 ? { payload, events } : undefined;
}

/** A usable crypto line of the peer's, the first in its order (optionally one of the given tags). */
export function peerSdesKey(media: MediaDescription, accept: (key: SdesKey) => boolean = () => true): SdesKey | undefined {
  for (const crypto of media.crypto) {
    const key = usableSdesKey(crypto);
    if (key && accept(key)) return key;
  }
  return undefined;
}

/** b=AS (kbit/s) or b=TIAS (bit/s) of the media, else (video: it takes what audio leaves) of the session. */
function peerBandwidthKbps(session: SessionDescription, media: MediaDescription): number | undefined {
  for (const bandwidths of media.kind === 'video' ? [media.bandwidths, session.bandwidths] : [media.bandwidths]) {
    const as = bandwidths.find(({ type }) => type === 'AS');
    if (as) return as.value;
    const tias = bandwidths.find(({ type }) => type === 'TIAS');
    if (tias) return Math.floor(tias.value / 1000);
  }
  return undefined;
}

export interface Agreement {
  kind: 'audio' | 'video';
  index: number;
  proto: RtpProto;
  peer: SessionDescription;
  peerMedia: MediaDescription;
  /** The peer's payload type of the codec. */
  payload: Payload;
  localFmtp?: string;
  telephoneEvent?: { payload: Payload; events: number[] };
  rtcpFeedback: RtcpFeedback[];
  direction: Direction;
  rtcpMux: boolean;
  localPort: number;
  srtp?: NegotiatedSrtp;
  local: LocalMedia;
}

export function negotiatedMedia(agreement: Agreement): NegotiatedMedia {
  const { peer, peerMedia, payload, rtcpMux, localPort } = agreement;
  const address = connectionOf(peer, peerMedia)?.address ?? '0.0.0.0';
  const codec = codecOf(payload)!;
  const peerMax = peerBandwidthKbps(peer, peerMedia);
  const ourMax = agreement.kind === 'video' ? agreement.local.maxBandwidthKbps : undefined;
  const limits = [peerMax, ourMax].filter((limit): limit is number => limit !== undefined);
  const negotiated: NegotiatedMedia = {
    kind: agreement.kind,
    index: agreement.index,
    proto: agreement.proto,
    remote: {
      address,
      port: peerMedia.port,
      rtcpAddress: rtcpMux ? address : (peerMedia.rtcp?.address ?? address),
      rtcpPort: rtcpMux ? peerMedia.port : (peerMedia.rtcp?.port ?? peerMedia.port + 1),
    },
    local: { port: localPort, rtcpPort: rtcpMux ? localPort : localPort + 1 },
    rtcpMux,
    payloadType: payload.payloadType,
    codec: {
      name: codec.encodingName,
      clockRate: codec.clockRate,
      ...(agreement.kind === 'audio' ? { channels: codec.channels ?? 1 } : {}),
      parameters: Object.fromEntries(fmtpParameters(payload.fmtp)),
      ...(agreement.localFmtp === undefined ? {} : { localFmtp: agreement.localFmtp }),
    },
    rtcpFeedback: agreement.rtcpFeedback,
    direction: agreement.direction,
  };
  if (agreement.telephoneEvent) {
    const { payload: events, events: codes } = agreement.telephoneEvent;
    negotiated.telephoneEvent = { payloadType: events.payloadType, clockRate: codecOf(events)!.clockRate, events: codes };
  }
  if (agreement.srtp) negotiated.srtp = agreement.srtp;
  if (limits.length > 0) negotiated.bandwidthKbps = Math.min(...limits);
  return negotiated;
}

/** An offered m-line refused: port 0, its formats echoed (RFC 3264 §6). */
export function refusedLine(offered: MediaDescription): MediaDescription {
  return {
    ...emptyMedia(offered.kind, offered.media, 0, offered.proto),
    formats: [...offered.formats],
    payloads: offeredPayloads(offered).map(({ payloadType }) => ({ payloadType, rtcpFeedback: [] })),
    direction: 'inactive',
  };
}

/**
 * Our session around `media`. The o= line continues `previous`: same session id, version + 1
 * when the SDP differs from the previous one, the same version when it does not (RFC 3264 §8).
 */
export function ourSession(local: LocalMedia, media: MediaDescription[], previous: Negotiation | undefined): SessionDescription {
  const addressType = local.address.includes(':') ? 'IP6' : 'IP4';
  const prior = previous?.session.origin;
  const session: SessionDescription = {
    origin: {
      username: '-',
      sessionId: prior?.sessionId ?? local.sessionId ?? String(randomInt(2 ** 40, 2 ** 47)),
      sessionVersion: prior?.sessionVersion ?? '1',
      addressType,
      address: local.address,
    },
    sessionName: 'cityconf',
    connection: { addressType, address: local.address },
    bandwidths: [],
    timing: { start: '0', stop: '0' },
    attributes: [],
    otherLines: [],
    media,
  };
  if (prior && writeSdp(session) !== previous.sdp) session.origin.sessionVersion = String(BigInt(prior.sessionVersion) + 1n);
  return session;
}
