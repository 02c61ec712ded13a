import type { types as ms } from 'mediasoup';

/** Offers larger than this are refused before they are read (bytes). */
export const MAX_OFFER_BYTES = 64 * 1024;

/** An offer the SFU cannot accept; `status` is the HTTP status a WHIP endpoint should answer with. */
export class WhipOfferError extends Error {
  override name = 'WhipOfferError';

  constructor(
    readonly status: 400 | 413 | 422,
    message: string,
  ) {
    super(message);
  }
}

/** An m-line the SFU receives: one producer. */
export interface AcceptedMedia {
  accepted: true;
  kind: ms.MediaKind;
  mid: string;
  proto: string;
  /** What the producer is told: the offer's payload types, extension ids and SSRCs or rids. */
  rtpParameters: ms.RtpParameters;
  /** The encodings are the offer's simulcast rids (answered `a=simulcast:recv`). */
  simulcast: boolean;
}

/** An m-line answered with port 0. */
export interface RejectedMedia {
  accepted: false;
  kind: string;
  mid?: string;
  proto: string;
  formats: string[];
  reason: string;
}

export type OfferedMedia = AcceptedMedia | RejectedMedia;

export interface WhipOffer {
  /** One entry per offered m-line, in order. */
  media: OfferedMedia[];
  /** The publisher's DTLS parameters, with the role it takes (`actpass` makes it the client). */
  dtlsParameters: ms.DtlsParameters;
}

interface Attribute {
  name: string;
  value: string;
}

interface MediaSection {
  kind: string;
  port: number;
  proto: string;
  formats: string[];
  attributes: Attribute[];
}

const WEBRTC_PROTO = /^(UDP\/TLS|TCP\/DTLS)\/RTP\/SAVPF$/;
const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);
const RID_EXTENSION = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const REPAIRED_RID_EXTENSION = 'urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id';
const TRANSPORT_CC_EXTENSION = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';
const ABS_SEND_TIME_EXTENSION = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';

/**
 * Reads a WHIP offer and decides, m-line by m-line, what the router receives: Opus audio; H.264
 * (packetization-mode 1, in a profile the router has) before VP8 for video; at most one of each.
 * Media the offer does not send (recvonly, inactive), data channels and further m-lines of a kind
 * are rejected (port 0) without failing the offer. `sendrecv` is received as if it were `sendonly`.
 * Throws WhipOfferError when nothing can be received or the offer is not usable WebRTC.
 */
export function parseWhipOffer(sdp: string, routerCapabilities: ms.RtpCapabilities): WhipOffer {
  if (Buffer.byteLength(sdp) > MAX_OFFER_BYTES) {
    throw new WhipOfferError(413, `the offer is larger than ${MAX_OFFER_BYTES} bytes: send one audio and one video m-line`);
  }
  const { session, media } = parseSdp(sdp);
  if (media.length === 0) throw new WhipOfferError(422, 'the offer has no media: add an audio or video m-line (sendonly)');
  const bundled = new Set(values(session, 'group').flatMap((group) => (group.startsWith('BUNDLE ') ? group.split(' ').slice(1) : [])));
  const kindsTaken = new Set<string>();
  const offered = media.map((section, index): OfferedMedia => {
    const decision = acceptMedia(section, routerCapabilities, kindsTaken);
    if (decision.accepted) kindsTaken.add(decision.kind);
    else decision.reason = `m-line ${index} (${section.kind}): ${decision.reason}`;
    return decision;
  });
  const accepted = offered.filter((entry): entry is AcceptedMedia => entry.accepted);
  if (accepted.length === 0) {
    const reasons = offered.map((entry) => (entry.accepted ? '' : entry.reason)).join('; ');
    throw new WhipOfferError(422, `the offer has no media the SFU can receive: ${reasons}`);
  }
  if (accepted.length > 1 && !accepted.every(({ mid }) => bundled.has(mid))) {
    throw new WhipOfferError(422, `the offer must bundle its media on one transport: add a=group:BUNDLE ${accepted.map(({ mid }) => mid).join(' ')}`);
  }
  // With BUNDLE every m-line carries the same transport attributes: read those of the first.
  const first = media[offered.indexOf(accepted[0]!)]!;
  const transportAttribute = (name: string): string | undefined => value(first.attributes, name) ?? value(session, name);
  const usernameFragment = transportAttribute('ice-ufrag');
  const password = transportAttribute('ice-pwd');
  // The ICE-lite side never checks them, but an offer without them is no ICE agent's.
  if (!usernameFragment || !password) throw new WhipOfferError(422, 'the offer has no ICE credentials: add a=ice-ufrag and a=ice-pwd');
  return {
    media: offered,
    dtlsParameters: dtlsParameters(transportAttribute('fingerprint'), transportAttribute('setup')),
  };
}

function parseSdp(sdp: string): { session: Attribute[]; media: MediaSection[] } {
  const lines = sdp.split(/\r?\n/).filter((line) => line !== '');
  if (lines[0] !== 'v=0') throw new WhipOfferError(400, 'the offer is not SDP: it must start with "v=0"');
  const session: Attribute[] = [];
  const media: MediaSection[] = [];
  for (const line of lines) {
    const match = /^([a-z])=(.*)$/.exec(line);
    if (!match) throw new WhipOfferError(400, `the offer is not SDP: "${line.slice(0, 60)}" is not a "<type>=<value>" line`);
    const [, type, text] = match as unknown as [string, string, string];
    if (type === 'm') {
      const [kind, port, proto, ...formats] = text.split(' ');
      if (!kind || !port || !/^\d+$/.test(port.split('/')[0]!) || !proto || formats.length === 0) {
        throw new WhipOfferError(400, `the offer has a malformed m-line "${line.slice(0, 60)}": expected "m=<kind> <port> <proto> <formats>"`);
      }
      media.push({ kind, port: Number(port.split('/')[0]), proto, formats, attributes: [] });
    } else if (type === 'a') {
      const colon = text.indexOf(':');
      const attribute = colon < 0 ? { name: text, value: '' } : { name: text.slice(0, colon), value: text.slice(colon + 1) };
      (media.at(-1)?.attributes ?? session).push(attribute);
    }
  }
  return { session, media };
}

function value(attributes: Attribute[], name: string): string | undefined {
  return attributes.find((attribute) => attribute.name === name)?.value;
}

function values(attributes: Attribute[], name: string): string[] {
  return attributes.filter((attribute) => attribute.name === name).map((attribute) => attribute.value);
}

function dtlsParameters(fingerprint: string | undefined, setup: string | undefined): ms.DtlsParameters {
  const [algorithm, hash] = fingerprint?.split(' ') ?? [];
  if (!algorithm || !hash) throw new WhipOfferError(422, 'the offer has no DTLS fingerprint: add a=fingerprint:sha-256 <hash>');
  if (!FINGERPRINT_ALGORITHMS.has(algorithm.toLowerCase())) {
    throw new WhipOfferError(422, `the offer's fingerprint uses ${algorithm}: use one of ${[...FINGERPRINT_ALGORITHMS].join(', ')}`);
  }
  // The publisher takes the client role unless it insists on being the server.
  const role = setup === 'passive' ? 'server' : 'client';
  return { role, fingerprints: [{ algorithm: algorithm.toLowerCase(), value: hash.toUpperCase() }] };
}

function reject(section: MediaSection, reason: string): RejectedMedia {
  return { accepted: false, kind: section.kind, mid: value(section.attributes, 'mid'), proto: section.proto, formats: section.formats, reason };
}

function acceptMedia(section: MediaSection, capabilities: ms.RtpCapabilities, kindsTaken: Set<string>): OfferedMedia {
  const { kind, attributes } = section;
  if (kind !== 'audio' && kind !== 'video') return reject(section, 'only audio and video are received');
  if (section.port === 0 && !attributes.some(({ name }) => name === 'bundle-only')) return reject(section, 'disabled in the offer (port 0)');
  if (!WEBRTC_PROTO.test(section.proto)) return reject(section, `${section.proto} is not WebRTC media: use UDP/TLS/RTP/SAVPF`);
  if (attributes.some(({ name }) => name === 'recvonly' || name === 'inactive')) {
    return reject(section, 'the offer does not send on it: WHIP only receives (use sendonly)');
  }
  if (kindsTaken.has(kind)) return reject(section, `one ${kind} m-line is received at most`);
  const mid = value(attributes, 'mid');
  if (!mid) return reject(section, 'it has no a=mid');
  if (!attributes.some(({ name }) => name === 'rtcp-mux')) return reject(section, 'it has no a=rtcp-mux: WebRTC media multiplexes RTCP');
  const offeredCodecs = readCodecs(section);
  const codec = chooseCodec(kind, offeredCodecs, capabilities);
  if (!codec) {
    const names = [...new Set(offeredCodecs.map((offeredCodec) => offeredCodec.mimeType.split('/')[1]))].join(', ');
    const wanted = kind === 'audio' ? 'Opus' : 'H.264 (packetization-mode=1) or VP8';
    return reject(section, `no codec the SFU receives among ${names || 'none'}: send ${wanted}`);
  }
  const rtx = offeredCodecs.find((candidate) => isRtx(candidate) && candidate.parameters?.apt === codec.payloadType);
  const codecs = rtx ? [codec, { ...rtx, rtcpFeedback: [] }] : [codec];
  const rids = kind === 'video' ? simulcastRids(attributes) : undefined;
  const headerExtensions = acceptedExtensions(kind, attributes, capabilities).filter(
    ({ uri }) => rids !== undefined || (uri !== RID_EXTENSION && uri !== REPAIRED_RID_EXTENSION),
  );
  return {
    accepted: true,
    kind,
    mid,
    proto: section.proto,
    simulcast: rids !== undefined,
    rtpParameters: {
      mid,
      codecs: codecs.map((accepted) => ({ ...accepted, rtcpFeedback: congestionFeedback(accepted.rtcpFeedback ?? [], headerExtensions) })),
      headerExtensions,
      encodings: rids ? rids.map((rid) => ({ rid })) : [ssrcEncoding(attributes, rtx !== undefined)],
      rtcp: { cname: cname(attributes), reducedSize: attributes.some(({ name }) => name === 'rtcp-rsize'), mux: true },
    },
  };
}

/** The offer's codecs in its order of preference, with their rtcp-fb. */
function readCodecs({ kind, formats, attributes }: MediaSection): ms.RtpCodecParameters[] {
  const rtpmaps = new Map(values(attributes, 'rtpmap').map(splitOnce));
  const fmtps = new Map(values(attributes, 'fmtp').map(splitOnce));
  const feedback = values(attributes, 'rtcp-fb').map((text) => {
    const [payloadType, type = '', parameter] = text.split(' ');
    return { payloadType, type, parameter };
  });
  return formats.flatMap((format): ms.RtpCodecParameters[] => {
    const [name, clockRate, channels] = rtpmaps.get(format)?.split('/') ?? [];
    if (!name || !clockRate || !/^\d+$/.test(format)) return [];
    return [
      {
        mimeType: `${kind}/${name}`,
        payloadType: Number(format),
        clockRate: Number(clockRate),
        ...(channels ? { channels: Number(channels) } : {}),
        parameters: fmtpParameters(fmtps.get(format) ?? ''),
        rtcpFeedback: feedback
          .filter((entry) => entry.payloadType === format || entry.payloadType === '*')
          .map(({ type, parameter }) => (parameter ? { type, parameter } : { type })),
      },
    ];
  });
}

function splitOnce(text: string): [string, string] {
  const space = text.indexOf(' ');
  return space < 0 ? [text, ''] : [text.slice(0, space), text.slice(space + 1)];
}

/** fmtp values as mediasoup compares them: numbers where numeric, profile-level-id always a string. */
function fmtpParameters(text: string): Record<string, string | number> {
  const parameters: Record<string, string | number> = {};
  for (const pair of text.split(';')) {
    const [key, ...rest] = pair.trim().split('=');
    if (!key) continue;
    const raw = rest.join('=');
    parameters[key] = key !== 'profile-level-id' && /^\d+$/.test(raw) ? Number(raw) : raw;
  }
  return parameters;
}

/** H.264 profiles by profile_idc and profile-iop bit pattern (RFC 6184), as mediasoup tells them apart. */
const H264_PROFILES: [profileIdc: number, profileIop: string, profile: string][] = [
  [0x42, 'x1xx0000', 'constrained-baseline'],
  [0x4d, '1xxx0000', 'constrained-baseline'],
  [0x58, '11xx0000', 'constrained-baseline'],
  [0x42, 'x0xx0000', 'baseline'],
  [0x58, '10xx0000', 'baseline'],
  [0x4d, '0x0x0000', 'main'],
  [0x64, '00000000', 'high'],
  [0x64, '00001100', 'constrained-high'],
];

function h264Profile(profileLevelId: unknown): string | undefined {
  const text = profileLevelId === undefined ? '42e01f' : String(profileLevelId);
  if (!/^[0-9a-f]{6}$/i.test(text)) return undefined;
  const idc = parseInt(text.slice(0, 2), 16);
  const iop = parseInt(text.slice(2, 4), 16);
  const bitsMatch = (pattern: string): boolean => [...pattern].every((bit, n) => bit === 'x' || Number(bit) === ((iop >> (7 - n)) & 1));
  return H264_PROFILES.find(([profileIdc, pattern]) => profileIdc === idc && bitsMatch(pattern))?.[2];
}

const isRtx = (codec: { mimeType: string }): boolean => /\/rtx$/i.test(codec.mimeType);
const isH264 = (codec: { mimeType: string }): boolean => codec.mimeType.toLowerCase() === 'video/h264';

function receivableBy(codec: ms.RtpCodecParameters, capability: ms.RtpCodecCapability): boolean {
  if (codec.mimeType.toLowerCase() !== capability.mimeType.toLowerCase() || codec.clockRate !== capability.clockRate) return false;
  if ((codec.channels ?? 1) !== (capability.channels ?? 1)) return false;
  if (!isH264(codec)) return true;
  const wanted = capability.parameters ?? {};
  const offered = codec.parameters ?? {};
  const profile = h264Profile(offered['profile-level-id']);
  return (offered['packetization-mode'] ?? 0) === (wanted['packetization-mode'] ?? 0) && profile !== undefined && profile === h264Profile(wanted['profile-level-id']);
}

/**
 * The offered codec the router receives, with the rtcp-fb both support: H.264 first (it reaches
 * SIP, MCU and recorders without transcoding), then the offer's order.
 */
function chooseCodec(kind: string, offered: ms.RtpCodecParameters[], capabilities: ms.RtpCapabilities): ms.RtpCodecParameters | undefined {
  const receivable = offered.flatMap((codec): ms.RtpCodecParameters[] => {
    const capability = isRtx(codec) ? undefined : capabilities.codecs?.find((candidate) => candidate.kind === kind && receivableBy(codec, candidate));
    if (!capability) return [];
    const supported = (feedback: ms.RtcpFeedback): boolean =>
      (capability.rtcpFeedback ?? []).some((known) => known.type === feedback.type && (known.parameter ?? '') === (feedback.parameter ?? ''));
    return [{ ...codec, rtcpFeedback: (codec.rtcpFeedback ?? []).filter(supported) }];
  });
  return receivable.find(isH264) ?? receivable[0];
}

/** The offer's extmaps the router receives for `kind`, with the offer's ids. */
function acceptedExtensions(kind: string, attributes: Attribute[], capabilities: ms.RtpCapabilities): ms.RtpHeaderExtensionParameters[] {
  return values(attributes, 'extmap').flatMap((text): ms.RtpHeaderExtensionParameters[] => {
    const [idAndDirection = '', uri = ''] = text.split(' ');
    const id = Number(idAndDirection.split('/')[0]);
    const received = (capabilities.headerExtensions ?? []).some(
      (extension) => extension.kind === kind && extension.uri === uri && (extension.direction ?? 'sendrecv').includes('recv'),
    );
    return received && Number.isInteger(id) ? [{ uri, id }] : [];
  });
}

/** One congestion controller per stream: transport-cc with its extension, else REMB with abs-send-time. */
function congestionFeedback(feedback: ms.RtcpFeedback[], extensions: ms.RtpHeaderExtensionParameters[]): ms.RtcpFeedback[] {
  const has = (uri: string): boolean => extensions.some((extension) => extension.uri === uri);
  if (has(TRANSPORT_CC_EXTENSION)) return feedback.filter(({ type }) => type !== 'goog-remb');
  if (has(ABS_SEND_TIME_EXTENSION)) return feedback.filter(({ type }) => type !== 'transport-cc');
  return feedback.filter(({ type }) => type !== 'transport-cc' && type !== 'goog-remb');
}

/**
 * The rids of a simple simulcast offer (`a=simulcast:send q;h;f`: one sent rid per stream, no
 * alternatives) in the offer's order, lowest layer first. Any other simulcast is answered
 * without it, and the publisher sends one encoding.
 */
function simulcastRids(attributes: Attribute[]): string[] | undefined {
  const match = /^send (\S+)$/.exec(value(attributes, 'simulcast')?.trim() ?? '');
  if (!match) return undefined;
  const rids = match[1]!.split(';').map((rid) => rid.replace(/^~/, ''));
  const sent = new Set(
    values(attributes, 'rid')
      .map((text) => text.split(' '))
      .filter(([, direction]) => direction === 'send')
      .map(([rid]) => rid),
  );
  const ridExtension = values(attributes, 'extmap').some((text) => text.split(' ')[1] === RID_EXTENSION);
  return ridExtension && rids.every((rid) => !rid.includes(',') && sent.has(rid)) ? rids : undefined;
}

/** The offer's media SSRC (and its RTX one), or none: mediasoup then finds the stream by its MID. */
function ssrcEncoding(attributes: Attribute[], withRtx: boolean): ms.RtpEncodingParameters {
  const first = values(attributes, 'ssrc')[0]?.split(' ')[0];
  if (!first || !/^\d+$/.test(first)) return {};
  const ssrc = Number(first);
  const fid = values(attributes, 'ssrc-group')
    .map((text) => text.split(' '))
    .find(([semantics, primary]) => semantics === 'FID' && primary === first);
  return withRtx && fid?.[2] ? { ssrc, rtx: { ssrc: Number(fid[2]) } } : { ssrc };
}

function cname(attributes: Attribute[]): string | undefined {
  for (const text of values(attributes, 'ssrc')) {
    const match = /^\d+ cname:(\S+)/.exec(text);
    if (match) return match[1];
  }
  return undefined;
}
