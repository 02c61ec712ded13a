import {
  audioCodecs,
  describeSupport,
  isLocalCodec,
  isTelephoneEvent,
  SUPPORTED_FEEDBACK,
  supportedFeedback,
  TELEPHONE_EVENT_PAYLOAD_TYPES,
  videoCodecs,
  type LocalCodec,
} from './codecs.js';
import { DTMF_EVENT_CODES, formatEventList } from './dtmf.js';
import { NoCommonCodecError, SdpError } from './errors.js';
import type { LocalMedia } from './LocalMedia.js';
import type { NegotiatedMedia, NegotiatedSrtp, Negotiation, RejectedMedia } from './Negotiation.js';
import { isRtpProto, isSecureProto, negotiatedMedia, offeredPayloads, ourDirection, ourSession, payloadNames, peerSdesKey, telephoneEventFor } from './negotiate.js';
import { parseSdp } from './parseSdp.js';
import { cryptoAttribute, generateSdesKey, SRTP_SUITES, usableSdesKey } from './sdes.js';
import { codecOf, connectionOf, emptyMedia, type CryptoAttribute, type MediaDescription, type Payload, type SessionDescription } from './SessionDescription.js';
import { writeSdp } from './writeSdp.js';

/** An offer we sent, kept to read the answer against. */
export interface LocalOffer {
  sdp: string;
  session: SessionDescription;
  local: LocalMedia;
}

/**
 * Our offer for an outbound call (to an MCU): audio Opus, G.722, PCMA, PCMU and telephone-event;
 * H.264 video (packetization-mode 1, our profiles) with nack, PLI and FIR feedback. RTP/AVP
 * (peers that do not know AVPF refuse RTP/AVPF m-lines; AVP peers ignore the rtcp-fb lines),
 * RTP/SAVP with one crypto line per suite when SRTP is required. Pass the dialog's previous
 * negotiation for a re-INVITE: the o= line continues it and our SRTP keys stay.
 */
export function createOffer(local: LocalMedia, previous?: Negotiation): LocalOffer {
  const media: MediaDescription[] = [];
  if (local.audio) {
    const codecs = audioCodecs(local);
    const payloads = codecs.map((codec) => offeredPayload(codec, []));
    if (local.audio.telephoneEvent !== false) {
      const clockRates = [...new Set(codecs.map(({ rtpmap }) => rtpmap.clockRate))].sort((a, b) => a - b);
      for (const clockRate of clockRates) {
        const payloadType = TELEPHONE_EVENT_PAYLOAD_TYPES.get(clockRate)!;
        payloads.push({ payloadType, rtpmap: { encodingName: 'telephone-event', clockRate }, fmtp: formatEventList(DTMF_EVENT_CODES), rtcpFeedback: [] });
      }
    }
    media.push(offeredMedia('audio', local.audio.port, payloads, local, previous?.audio?.srtp));
  }
  if (local.video) {
    const payloads = videoCodecs(local).map((codec) => offeredPayload(codec, [...SUPPORTED_FEEDBACK]));
    const video = offeredMedia('video', local.video.port, payloads, local, previous?.video?.srtp);
    if (local.maxBandwidthKbps !== undefined) video.bandwidths.push({ type: 'AS', value: local.maxBandwidthKbps });
    media.push(video);
  }
  if (media.length === 0) throw new RangeError('an offer needs local audio or video');
  const session = ourSession(local, media, previous);
  return { sdp: writeSdp(session), session, local };
}

function offeredPayload({ payloadType, rtpmap, fmtp }: LocalCodec, rtcpFeedback: Payload['rtcpFeedback']): Payload {
  return { payloadType, rtpmap, ...(fmtp === undefined ? {} : { fmtp }), rtcpFeedback };
}

function offeredMedia(kind: 'audio' | 'video', port: number, payloads: Payload[], local: LocalMedia, previous: NegotiatedSrtp | undefined): MediaDescription {
  const secure = local.srtp === 'required';
  const media = emptyMedia(kind, kind, port, secure ? 'RTP/SAVP' : 'RTP/AVP');
  media.payloads = payloads;
  media.formats = payloads.map(({ payloadType }) => String(payloadType));
  media.direction = local.direction ?? 'sendrecv';
  media.rtcpMux = local.rtcpMux === true;
  if (secure) {
    media.crypto = SRTP_SUITES.map((suite, index) =>
      cryptoAttribute({ tag: index + 1, suite, key: previous?.suite === suite ? previous.localKey : generateSdesKey() }),
    );
  }
  return media;
}

/**
 * Reads the answer to our offer. Throws SdpError when the answer is not one to it (another
 * number or kind of m-lines, another transport, a codec or crypto tag we did not offer, H.264
 * in packetization-mode 0), NoCommonCodecError when the peer refused every m-line.
 */
export function readAnswer(offer: LocalOffer, answerText: string): Negotiation {
  const answer = parseSdp(answerText);
  const ourMedia = offer.session.media;
  if (answer.media.length !== ourMedia.length) {
    throw new SdpError(`the answer has ${answer.media.length} m-lines; our offer has ${ourMedia.length}`);
  }
  const taken: Partial<Record<'audio' | 'video', NegotiatedMedia>> = {};
  const rejected: RejectedMedia[] = [];
  answer.media.forEach((answered, index) => {
    const ours = ourMedia[index]!;
    if (answered.media !== ours.media) throw new SdpError(`m-line ${index} of the answer is ${answered.media}; ours is ${ours.media}`);
    if (answered.port === 0) {
      rejected.push({ index, media: ours.media, reason: 'refused by the peer (port 0)' });
      return;
    }
    const negotiated = readAnsweredMedia(offer, answer, answered, ours, index);
    taken[negotiated.kind] = negotiated;
  });
  if (!taken.audio && !taken.video) {
    throw new NoCommonCodecError(
      rejected.map(({ index, media, reason }) => `m-line ${index} (${media}): ${reason}`),
      describeSupport(offer.local),
    );
  }
  return { sdp: offer.sdp, session: offer.session, ...taken, rejected };
}

function readAnsweredMedia(offer: LocalOffer, answer: SessionDescription, answered: MediaDescription, ours: MediaDescription, index: number): NegotiatedMedia {
  const kind = ours.kind as 'audio' | 'video';
  const where = `m-line ${index} (${kind}) of the answer`;
  const { proto } = answered;
  if (!isRtpProto(proto) || isSecureProto(proto) !== isSecureProto(ours.proto)) throw new SdpError(`${where} is ${proto}; we offered ${ours.proto}`);
  const payloads = offeredPayloads(answered);
  const payload = payloads.find((candidate) => !isTelephoneEvent(candidate));
  const codecs = kind === 'audio' ? audioCodecs(offer.local) : videoCodecs(offer.local);
  if (!payload || !codecs.some((codec) => isLocalCodec(codec, payload))) {
    throw new SdpError(`${where} selects ${payload ? payloadNames([payload]) : 'no codec'}${payload?.fmtp ? ` (${payload.fmtp})` : ''}, which we did not offer`);
  }
  const srtp = isSecureProto(ours.proto) ? answeredSrtp(answered, ours.crypto, where) : undefined;
  const localFmtp = offeredPayloads(ours).find((candidate) => candidate.payloadType === payload.payloadType)?.fmtp;
  const telephoneEvent = kind === 'audio' ? telephoneEventFor(payloads, codecOf(payload)!.clockRate) : undefined;
  return negotiatedMedia({
    kind,
    index,
    proto,
    peer: answer,
    peerMedia: answered,
    payload,
    ...(localFmtp === undefined ? {} : { localFmtp }),
    ...(telephoneEvent ? { telephoneEvent } : {}),
    rtcpFeedback: supportedFeedback(payload, answered.rtcpFeedbackAll),
    direction: ourDirection(answered.direction, connectionOf(answer, answered)!.address, offer.local),
    rtcpMux: answered.rtcpMux && ours.rtcpMux,
    localPort: ours.port,
    ...(srtp ? { srtp } : {}),
    local: offer.local,
  });
}

function answeredSrtp(answered: MediaDescription, offered: CryptoAttribute[], where: string): NegotiatedSrtp {
  let ourKey: string | undefined;
  const key = peerSdesKey(answered, ({ tag, suite }) => {
    const match = offered.find((crypto) => crypto.tag === tag && crypto.suite === suite);
    ourKey = match && usableSdesKey(match)?.key;
    return ourKey !== undefined;
  });
  if (!key || !ourKey) throw new SdpError(`${where} has no usable a=crypto answering one of our tags (${offered.map(({ tag, suite }) => `${tag} ${suite}`).join(', ')})`);
  return { suite: key.suite, tag: key.tag, remoteKey: key.key, localKey: ourKey };
}
