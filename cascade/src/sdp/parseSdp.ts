import { SdpError } from './errors.js';
import {
  emptyMedia,
  type AddressType,
  type Attribute,
  type Bandwidth,
  type Connection,
  type CryptoAttribute,
  type Direction,
  type MediaDescription,
  type MediaKind,
  type Origin,
  type Payload,
  type RtcpAttribute,
  type RtcpFeedback,
  type SessionDescription,
  type SdpLine,
  type SsrcAttribute,
} from './SessionDescription.js';

/** Bodies larger than this are refused before they are read (bytes). */
export const MAX_SDP_BYTES = 64 * 1024;

const DIRECTIONS = new Set<string>(['sendrecv', 'sendonly', 'recvonly', 'inactive']);
const KINDS = new Set<string>(['audio', 'video', 'application']);

/**
 * Reads an SDP body as SIP peers send it: CRLF or LF, trailing spaces, unknown lines and
 * attributes (kept as written), static payload types without rtpmap, c= per media only.
 * Throws SdpError naming the line when the body cannot be used: not SDP, no o=, a malformed
 * m=, c=, b=, rtpmap, fmtp, rtcp-fb, rtcp, crypto, ptime or ssrc, or media without an address.
 */
export function parseSdp(text: string): SessionDescription {
  if (text.length > MAX_SDP_BYTES) throw new SdpError(`the SDP is larger than ${MAX_SDP_BYTES} bytes`);
  const lines = text
    .replace(/^\uFEFF/, '')
    .split(/\r\n|\r|\n/)
    .map((line) => line.trimEnd())
    .filter((line) => line !== '');
  if (lines[0] !== 'v=0') throw new SdpError(`the body is not SDP: it must start with "v=0", not "${excerpt(lines[0] ?? '')}"`);
  let origin: Origin | undefined;
  const session: SessionDescription = {
    origin: { username: '-', sessionId: '0', sessionVersion: '0', addressType: 'IP4', address: '0.0.0.0' },
    sessionName: '-',
    bandwidths: [],
    timing: { start: '0', stop: '0' },
    attributes: [],
    otherLines: [],
    media: [],
  };
  let timingSeen = false;
  const mediaDirections: (Direction | undefined)[] = [];
  for (const line of lines.slice(1)) {
    const match = /^([a-zA-Z])=(.*)$/.exec(line);
    if (!match) throw new SdpError(`"${excerpt(line)}" is not an SDP "<type>=<value>" line`);
    const type = match[1]!;
    const value = match[2]!.trim();
    const media = session.media.at(-1);
    try {
      if (type === 'm') {
        session.media.push(mediaLine(value));
        mediaDirections.push(undefined);
      } else if (type === 'c') {
        if (media) media.connection ??= connection(value);
        else session.connection ??= connection(value);
      } else if (type === 'b') {
        (media ?? session).bandwidths.push(bandwidth(value));
      } else if (type === 'a') {
        const attribute = splitAttribute(value);
        if (!media) {
          if (DIRECTIONS.has(attribute.name)) session.direction = attribute.name as Direction;
          else session.attributes.push(attribute);
        } else if (DIRECTIONS.has(attribute.name)) {
          mediaDirections[mediaDirections.length - 1] = attribute.name as Direction;
        } else {
          mediaAttribute(media, attribute);
        }
      } else if (type === 'o' && !media) {
        origin ??= originLine(value);
      } else if (type === 's' && !media) {
        session.sessionName = value || '-';
      } else if (type === 't' && !media && !timingSeen && /^\d+\s+\d+$/.test(value)) {
        const [start, stop] = value.split(/\s+/) as [string, string];
        session.timing = { start, stop };
        timingSeen = true;
      } else {
        (media ?? session).otherLines.push({ type, value: match[2]! } satisfies SdpLine);
      }
    } catch (error) {
      if (error instanceof SdpError) throw new SdpError(`"${excerpt(line)}": ${error.message}`);
      throw error;
    }
  }
  if (!origin) throw new SdpError('the SDP has no o= line');
  session.origin = origin;
  session.media.forEach((media, index) => {
    media.direction = mediaDirections[index] ?? session.direction ?? 'sendrecv';
    if (media.port !== 0 && !media.connection && !session.connection) {
      throw new SdpError(`m-line ${index} (${media.media} ${media.port}) has no c= line and the session has none`);
    }
  });
  return session;
}

function excerpt(line: string): string {
  return line.length > 60 ? `${line.slice(0, 60)}…` : line;
}

function integer(text: string | undefined, what: string, max: number): number {
  if (!text || !/^\d{1,10}$/.test(text) || Number(text) > max) throw new SdpError(`${what} must be an integer from 0 to ${max}, not "${text ?? ''}"`);
  return Number(text);
}

function addressType(text: string | undefined): AddressType {
  if (text !== 'IP4' && text !== 'IP6') throw new SdpError(`the address type must be IP4 or IP6, not "${text ?? ''}"`);
  return text;
}

function originLine(value: string): Origin {
  const [username, sessionId, sessionVersion, netType, type, address, ...rest] = value.split(/\s+/);
  if (!address || rest.length > 0 || netType !== 'IN' || !/^\d+$/.test(sessionId!) || !/^\d+$/.test(sessionVersion!)) {
    throw new SdpError('expected "o=<username> <session-id> <version> IN IP4|IP6 <address>"');
  }
  return { username: username!, sessionId: sessionId!, sessionVersion: sessionVersion!, addressType: addressType(type), address };
}

function connection(value: string): Connection {
  const [netType, type, spec, ...rest] = value.split(/\s+/);
  if (netType !== 'IN' || !spec || rest.length > 0) throw new SdpError('expected "c=IN IP4|IP6 <address>"');
  const addressTypeValue = addressType(type);
  const [address, ...suffixes] = spec.split('/');
  if (!address || suffixes.length > 2) throw new SdpError('expected "c=IN IP4|IP6 <address>"');
  const result: Connection = { addressType: addressTypeValue, address };
  if (addressTypeValue === 'IP4' && suffixes.length > 0) {
    result.ttl = integer(suffixes[0], 'the multicast TTL', 255);
    if (suffixes[1] !== undefined) result.addressCount = integer(suffixes[1], 'the address count', 65535);
  } else if (suffixes.length === 1) {
    result.addressCount = integer(suffixes[0], 'the address count', 65535);
  } else if (suffixes.length > 1) {
    throw new SdpError('an IP6 address takes at most one "/<count>"');
  }
  return result;
}

function bandwidth(value: string): Bandwidth {
  const colon = value.indexOf(':');
  const type = value.slice(0, colon);
  if (colon <= 0 || !/^[\w-]+$/.test(type)) throw new SdpError('expected "b=<type>:<value>"');
  return { type, value: integer(value.slice(colon + 1), `b=${type}`, 2 ** 32 - 1) };
}

function mediaKind(media: string): MediaKind {
  return KINDS.has(media) ? (media as MediaKind) : 'other';
}

function mediaLine(value: string): MediaDescription {
  const [media, portSpec, proto, ...formats] = value.split(/\s+/);
  if (!media || !portSpec || !proto) throw new SdpError('expected "m=<media> <port> <proto> <formats>"');
  const [portText, countText, ...extra] = portSpec.split('/');
  if (extra.length > 0) throw new SdpError('expected "<port>" or "<port>/<count>"');
  const description = emptyMedia(mediaKind(media), media, integer(portText, 'the port', 65535), proto);
  description.formats = formats.filter((format) => format !== '');
  if (countText !== undefined) description.portCount = integer(countText, 'the port count', 65535);
  if (isRtp(proto)) {
    for (const format of description.formats) payload(description, integer(format, 'an RTP payload type', 127));
  }
  return description;
}

/** RTP/AVP and its relatives, whose formats are payload types. */
function isRtp(proto: string): boolean {
  return /(^|\/)RTP\//.test(proto);
}

function payload(media: MediaDescription, payloadType: number): Payload {
  let found = media.payloads.find((candidate) => candidate.payloadType === payloadType);
  if (!found) {
    found = { payloadType, rtcpFeedback: [] };
    media.payloads.push(found);
  }
  return found;
}

function splitAttribute(value: string): Attribute {
  const colon = value.indexOf(':');
  return colon < 0 ? { name: value } : { name: value.slice(0, colon), value: value.slice(colon + 1) };
}

/** Splits "<pt> <rest>" for the per-payload attributes. */
function payloadAndRest(value: string | undefined): [string, string] {
  const match = /^(\S+)\s*(.*)$/.exec(value ?? '');
  if (!match) throw new SdpError('expected "<payload type> <value>"');
  return [match[1]!, match[2]!];
}

function mediaAttribute(media: MediaDescription, attribute: Attribute): void {
  const { name, value } = attribute;
  const rtp = isRtp(media.proto);
  if (name === 'rtpmap' && rtp) {
    const [pt, rest] = payloadAndRest(value);
    const match = /^([\w.+-]+)\/(\d{1,10})(?:\/(\d{1,3}))?$/.exec(rest);
    if (!match) throw new SdpError('expected "a=rtpmap:<payload type> <encoding>/<clock rate>[/<channels>]"');
    const entry = payload(media, integer(pt, 'an RTP payload type', 127));
    entry.rtpmap ??= { encodingName: match[1]!, clockRate: Number(match[2]), ...(match[3] ? { channels: Number(match[3]) } : {}) };
  } else if (name === 'fmtp' && rtp) {
    const [pt, rest] = payloadAndRest(value);
    payload(media, integer(pt, 'an RTP payload type', 127)).fmtp ??= rest;
  } else if (name === 'rtcp-fb' && rtp) {
    const [pt, rest] = payloadAndRest(value);
    const [type, ...parameter] = rest.split(/\s+/);
    if (!type) throw new SdpError('expected "a=rtcp-fb:<payload type>|* <type> [<parameter>]"');
    const feedback: RtcpFeedback = parameter.length > 0 ? { type, parameter: parameter.join(' ') } : { type };
    if (pt === '*') media.rtcpFeedbackAll.push(feedback);
    else payload(media, integer(pt, 'an RTP payload type', 127)).rtcpFeedback.push(feedback);
  } else if (name === 'rtcp') {
    media.rtcp = rtcpAttribute(value ?? '');
  } else if (name === 'rtcp-mux') {
    media.rtcpMux = true;
  } else if (name === 'crypto') {
    media.crypto.push(cryptoAttribute(value ?? ''));
  } else if (name === 'ptime') {
    media.ptime = decimal(value, 'a=ptime');
  } else if (name === 'framerate') {
    media.framerate = decimal(value, 'a=framerate');
  } else if (name === 'content' && value) {
    media.content = value;
  } else if (name === 'label' && value) {
    media.label = value;
  } else if (name === 'ssrc') {
    media.ssrcs.push(ssrcAttribute(value ?? ''));
  } else {
    media.attributes.push(attribute);
  }
}

function decimal(value: string | undefined, what: string): number {
  if (!value || !/^\d{1,6}(\.\d{1,6})?$/.test(value.trim())) throw new SdpError(`${what} must be a number`);
  return Number(value);
}

function rtcpAttribute(value: string): RtcpAttribute {
  const [port, netType, type, address, ...rest] = value.split(/\s+/);
  const rtcp: RtcpAttribute = { port: integer(port, 'the RTCP port', 65535) };
  if (netType === undefined) return rtcp;
  if (netType !== 'IN' || !address || rest.length > 0) throw new SdpError('expected "a=rtcp:<port> [IN IP4|IP6 <address>]"');
  return { ...rtcp, addressType: addressType(type), address };
}

function cryptoAttribute(value: string): CryptoAttribute {
  const [tag, suite, keyParams, ...sessionParams] = value.split(/\s+/);
  if (!suite || !keyParams) throw new SdpError('expected "a=crypto:<tag> <suite> <key params> [<session params>]"');
  return { tag: integer(tag, 'the crypto tag', 999999999), suite, keyParams, sessionParams };
}

function ssrcAttribute(value: string): SsrcAttribute {
  const match = /^(\d{1,10})\s+([^:\s]+)(?::(.*))?$/.exec(value);
  if (!match || Number(match[1]) > 0xffffffff) throw new SdpError('expected "a=ssrc:<ssrc> <attribute>[:<value>]"');
  return match[3] === undefined ? { id: Number(match[1]), attribute: match[2]! } : { id: Number(match[1]), attribute: match[2]!, value: match[3] };
}
