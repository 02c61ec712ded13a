import { answerFmtp, audioCodecs, describeSupport, isLocalCodec, supportedFeedback, videoCodecs, type LocalCodec } from './codecs.js';
import { formatEventList } from './dtmf.js';
import { NoCommonCodecError } from './errors.js';
import type { LocalMedia } from './LocalMedia.js';
import type { NegotiatedMedia, NegotiatedSrtp, Negotiation, RejectedMedia } from './Negotiation.js';
import { isRtpProto, isSecureProto, negotiatedMedia, offeredPayloads, ourDirection, ourSession, payloadNames, peerSdesKey, refusedLine, telephoneEventFor } from './negotiate.js';
import { parseSdp } from './parseSdp.js';
import { cryptoAttribute, generateSdesKey } from './sdes.js';
import { codecOf, connectionOf, emptyMedia, type MediaDescription, type Payload, type SessionDescription } from './SessionDescription.js';
import { writeSdp } from './writeSdp.js';

type Answered = { answer: MediaDescription; negotiated: NegotiatedMedia } | { reason: string };

/**
 * Answers a SIP peer's offer (plain RTP or SDES-SRTP): one sendrecv m-line per kind with one
 * codec (plus telephone-event), every other m-line refused with port 0. Pass the previous
 * negotiation of the dialog for a re-INVITE: the o= line continues it, the codec and our SRTP
 * key stay when still offered.
 * Throws SdpError for an unreadable offer, NoCommonCodecError when no m-line can be taken.
 */
export function answerOffer(offerText: string, local: LocalMedia, previous?: Negotiation): Negotiation {
  const offer = parseSdp(offerText);
  const taken: Partial<Record<'audio' | 'video', NegotiatedMedia>> = {};
  const rejected: RejectedMedia[] = [];
  const media = offer.media.map((offered, index) => {
    const answered = answerMedia(offer, offered, index, local, taken, previous);
    if ('reason' in answered) {
      rejected.push({ index, media: offered.media, reason: answered.reason });
      return refusedLine(offered);
    }
    taken[answered.negotiated.kind] = answered.negotiated;
    return answered.answer;
  });
  if (!taken.audio && !taken.video) {
    throw new NoCommonCodecError(
      rejected.map(({ index, media: name, reason }) => `m-line ${index} (${name}): ${reason}`),
      describeSupport(local),
    );
  }
  const session = ourSession(local, media, previous);
  return { sdp: writeSdp(session), session, ...taken, rejected };
}

function answerMedia(
  offer: SessionDescription,
  offered: MediaDescription,
  index: number,
  local: LocalMedia,
  taken: Partial<Record<'audio' | 'video', NegotiatedMedia>>,
  previous: Negotiation | undefined,
): Answered {
  const { kind, proto } = offered;
  if (kind !== 'audio' && kind !== 'video') return { reason: proto.endsWith('BFCP') ? 'BFCP presentation is not supported' : 'only audio and video are taken' };
  if (offered.port === 0) return { reason: 'disabled in the offer (port 0)' };
  const ours = local[kind];
  if (!ours) return { reason: `we take no ${kind}` };
  if (taken[kind]) return { reason: `one ${kind} m-line is taken, this is a further one` };
  if (offered.content !== undefined && offered.content !== 'main') return { reason: `presentation video (a=content:${offered.content}) is not taken` };
  if (!isRtpProto(proto)) return { reason: `${proto} is not RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF` };
  const srtp = chooseSrtp(offered, local, previous?.[kind]?.srtp);
  if (typeof srtp === 'string') return { reason: srtp };
  const payloads = offeredPayloads(offered);
  const choice = chooseCodec(payloads, kind === 'audio' ? audioCodecs(local) : videoCodecs(local), previous?.[kind]);
  if (!choice) return { reason: `no codec we take among ${payloadNames(payloads)}` };
  const telephoneEvent = kind === 'audio' && local.audio?.telephoneEvent !== false ? telephoneEventFor(payloads, codecOf(choice.payload)!.clockRate) : undefined;
  const rtcpMux = offered.rtcpMux && local.rtcpMux === true;
  const direction = ourDirection(offered.direction, connectionOf(offer, offered)!.address, local);
  const localFmtp = answerFmtp(choice.codec, choice.payload);
  const rtcpFeedback = supportedFeedback(choice.payload, offered.rtcpFeedbackAll);
  const negotiated = negotiatedMedia({
    kind,
    index,
    proto,
    peer: offer,
    peerMedia: offered,
    payload: choice.payload,
    ...(localFmtp === undefined ? {} : { localFmtp }),
    ...(telephoneEvent ? { telephoneEvent } : {}),
    rtcpFeedback,
    direction,
    rtcpMux,
    localPort: ours.port,
    ...(srtp ? { srtp } : {}),
    local,
  });
  const answer = emptyMedia(kind, offered.media, ours.port, proto);
  answer.payloads.push({
    payloadType: choice.payload.payloadType,
    rtpmap: choice.codec.rtpmap,
    ...(localFmtp === undefined ? {} : { fmtp: localFmtp }),
    rtcpFeedback,
  });
  if (telephoneEvent) {
    const { payload, events } = telephoneEvent;
    answer.payloads.push({ payloadType: payload.payloadType, rtpmap: { encodingName: 'telephone-event', clockRate: codecOf(payload)!.clockRate }, fmtp: formatEventList(events), rtcpFeedback: [] });
  }
  answer.formats = answer.payloads.map(({ payloadType }) => String(payloadType));
  answer.direction = direction;
  answer.rtcpMux = rtcpMux;
  if (srtp) answer.crypto.push(cryptoAttribute({ tag: srtp.tag, suite: srtp.suite, key: srtp.localKey }));
  if (kind === 'video' && local.maxBandwidthKbps !== undefined) answer.bandwidths.push({ type: 'AS', value: local.maxBandwidthKbps });
  return { answer, negotiated };
}

/**
 * The SRTP keys of an offered m-line, undefined for plain RTP, or why it cannot be taken. A
 * crypto line in an RTP/AVP offer (best-effort SRTP) is taken unless SRTP is off.
 */
function chooseSrtp(offered: MediaDescription, local: LocalMedia, previous: NegotiatedSrtp | undefined): NegotiatedSrtp | undefined | string {
  const policy = local.srtp ?? 'optional';
  const secure = isSecureProto(offered.proto);
  if (policy === 'off') return secure ? `${offered.proto} needs SRTP, which is turned off here` : undefined;
  const key = peerSdesKey(offered);
  if (!key) {
    if (secure) return `${offered.proto} without a usable a=crypto (inline AES_CM_128_HMAC_SHA1_80 or _32 key, no MKI)`;
    return policy === 'required' ? 'plain RTP is refused: SRTP (SDES a=crypto) is required here' : undefined;
  }
  const localKey = previous?.suite === key.suite ? previous.localKey : generateSdesKey();
  return { suite: key.suite, tag: key.tag, remoteKey: key.key, localKey };
}

/** The offered payload type of our most preferred codec; the previous choice while it is still offered. */
function chooseCodec(payloads: Payload[], codecs: LocalCodec[], previous: NegotiatedMedia | undefined): { codec: LocalCodec; payload: Payload } | undefined {
  const matches = codecs.flatMap((codec) => payloads.filter((payload) => isLocalCodec(codec, payload)).map((payload) => ({ codec, payload })));
  const kept = matches.find(({ payload }) => payload.payloadType === previous?.payloadType && codecOf(payload)?.encodingName === previous.codec.name);
  return kept ?? matches[0];
}
