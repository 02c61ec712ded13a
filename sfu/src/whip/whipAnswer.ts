import { randomInt } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import type { AcceptedMedia, RejectedMedia, WhipOffer } from './whipOffer.js';

/** The transport's side of the answer. */
export interface AnswerTransport {
  iceParameters: ms.IceParameters;
  iceCandidates: ms.IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
}

/**
 * The SDP answer to `offer`: an ICE-lite endpoint on `transport`, receiving each accepted m-line
 * (only its chosen codec and RTX, the rtcp-fb and extmaps the router supports) bundled on one
 * transport; every other m-line rejected with port 0.
 */
export function writeWhipAnswer(offer: WhipOffer, transport: AnswerTransport): string {
  const fingerprint = transport.dtlsParameters.fingerprints.find(({ algorithm }) => algorithm === 'sha-256');
  if (!fingerprint) throw new Error('the transport has no sha-256 DTLS fingerprint');
  const accepted = offer.media.filter((media): media is AcceptedMedia => media.accepted);
  const transportLines = [
    `a=ice-ufrag:${transport.iceParameters.usernameFragment}`,
    `a=ice-pwd:${transport.iceParameters.password}`,
    ...transport.iceCandidates.map(candidateLine),
    'a=end-of-candidates',
    `a=fingerprint:${fingerprint.algorithm} ${fingerprint.value}`,
    // The publisher's role decides ours: it is the DTLS client unless it said a=setup:passive.
    `a=setup:${offer.dtlsParameters.role === 'server' ? 'active' : 'passive'}`,
  ];
  const lines = [
    'v=0',
    `o=- ${randomInt(2 ** 47)} 1 IN IP4 127.0.0.1`,
    's=-',
    't=0 0',
    'a=ice-lite',
    `a=group:BUNDLE ${accepted.map(({ mid }) => mid).join(' ')}`,
    ...offer.media.flatMap((media) => (media.accepted ? acceptedSection(media, transportLines) : rejectedSection(media))),
  ];
  return `${lines.join('\r\n')}\r\n`;
}

function candidateLine(candidate: ms.IceCandidate): string {
  const tcpType = candidate.protocol === 'tcp' ? ` tcptype ${candidate.tcpType ?? 'passive'}` : '';
  return `a=candidate:${candidate.foundation} 1 ${candidate.protocol} ${candidate.priority} ${candidate.ip} ${candidate.port} typ ${candidate.type}${tcpType}`;
}

function acceptedSection({ kind, mid, proto, rtpParameters, simulcast }: AcceptedMedia, transportLines: string[]): string[] {
  const { codecs, headerExtensions = [], encodings = [], rtcp } = rtpParameters;
  const lines = [
    `m=${kind} 9 ${proto} ${codecs.map(({ payloadType }) => payloadType).join(' ')}`,
    'c=IN IP4 0.0.0.0',
    `a=mid:${mid}`,
    'a=recvonly',
    ...transportLines,
    'a=rtcp-mux',
    ...(rtcp?.reducedSize ? ['a=rtcp-rsize'] : []),
    ...headerExtensions.map(({ id, uri }) => `a=extmap:${id} ${uri}`),
  ];
  for (const codec of codecs) {
    const [, name] = codec.mimeType.split('/');
    const channels = codec.channels && codec.channels > 1 ? `/${codec.channels}` : '';
    lines.push(`a=rtpmap:${codec.payloadType} ${name}/${codec.clockRate}${channels}`);
    const fmtp = Object.entries(codec.parameters ?? {}).map(([key, value]) => `${key}=${String(value)}`);
    if (fmtp.length > 0) lines.push(`a=fmtp:${codec.payloadType} ${fmtp.join(';')}`);
    for (const { type, parameter } of codec.rtcpFeedback ?? []) {
      lines.push(`a=rtcp-fb:${codec.payloadType} ${type}${parameter ? ` ${parameter}` : ''}`);
    }
  }
  if (simulcast) {
    const rids = encodings.map(({ rid }) => rid);
    lines.push(...rids.map((rid) => `a=rid:${rid} recv`), `a=simulcast:recv ${rids.join(';')}`);
  }
  return lines;
}

function rejectedSection({ kind, mid, proto, formats }: RejectedMedia): string[] {
  return [`m=${kind} 0 ${proto} ${formats[0]}`, 'c=IN IP4 0.0.0.0', ...(mid ? [`a=mid:${mid}`] : []), 'a=inactive'];
}
