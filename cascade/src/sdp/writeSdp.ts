import type { Attribute, Bandwidth, Connection, MediaDescription, RtcpFeedback, SdpLine, SessionDescription } from './SessionDescription.js';

/**
 * Writes a session as SDP with CRLF line ends, in RFC 4566 order. Per media: its typed
 * attributes (rtpmap, fmtp and rtcp-fb per payload type, direction, rtcp, crypto…) then the
 * attributes kept as written. `parseSdp(writeSdp(session))` gives the session back.
 */
export function writeSdp(session: SessionDescription): string {
  const { origin } = session;
  const lines = [
    'v=0',
    `o=${origin.username} ${origin.sessionId} ${origin.sessionVersion} IN ${origin.addressType} ${origin.address}`,
    `s=${session.sessionName}`,
    ...others(session.otherLines, 'iuep'),
    ...(session.connection ? [connectionLine(session.connection)] : []),
    ...session.bandwidths.map(bandwidthLine),
    `t=${session.timing.start} ${session.timing.stop}`,
    ...others(session.otherLines, 'rzk'),
    ...(session.direction ? [`a=${session.direction}`] : []),
    ...session.attributes.map(attributeLine),
    ...others(session.otherLines, 'iueprzk', true),
  ];
  for (const media of session.media) lines.push(...mediaLines(media));
  return `${lines.join('\r\n')}\r\n`;
}

/** Lines RFC 4566 places among the given types, or (`rest`) those of any other type. */
function others(lines: SdpLine[], types: string, rest = false): string[] {
  return lines.filter(({ type }) => types.includes(type) !== rest).map(({ type, value }) => `${type}=${value}`);
}

function connectionLine({ addressType, address, ttl, addressCount }: Connection): string {
  const suffix = `${ttl === undefined ? '' : `/${ttl}`}${addressCount === undefined ? '' : `/${addressCount}`}`;
  return `c=IN ${addressType} ${address}${suffix}`;
}

function bandwidthLine({ type, value }: Bandwidth): string {
  return `b=${type}:${value}`;
}

function attributeLine({ name, value }: Attribute): string {
  return value === undefined ? `a=${name}` : `a=${name}:${value}`;
}

function feedbackLine(payloadType: number | '*', { type, parameter }: RtcpFeedback): string {
  return `a=rtcp-fb:${payloadType} ${type}${parameter === undefined ? '' : ` ${parameter}`}`;
}

function mediaLines(media: MediaDescription): string[] {
  const port = `${media.port}${media.portCount === undefined ? '' : `/${media.portCount}`}`;
  const lines = [
    `m=${media.media} ${port} ${[media.proto, ...media.formats].join(' ')}`,
    ...others(media.otherLines, 'i'),
    ...(media.connection ? [connectionLine(media.connection)] : []),
    ...media.bandwidths.map(bandwidthLine),
    ...others(media.otherLines, 'k'),
  ];
  for (const { payloadType, rtpmap, fmtp, rtcpFeedback } of media.payloads) {
    if (rtpmap) lines.push(`a=rtpmap:${payloadType} ${rtpmap.encodingName}/${rtpmap.clockRate}${rtpmap.channels === undefined ? '' : `/${rtpmap.channels}`}`);
    if (fmtp !== undefined) lines.push(`a=fmtp:${payloadType} ${fmtp}`);
    lines.push(...rtcpFeedback.map((feedback) => feedbackLine(payloadType, feedback)));
  }
  lines.push(...media.rtcpFeedbackAll.map((feedback) => feedbackLine('*', feedback)));
  if (media.rtcp) {
    const address = media.rtcp.address === undefined ? '' : ` IN ${media.rtcp.addressType ?? 'IP4'} ${media.rtcp.address}`;
    lines.push(`a=rtcp:${media.rtcp.port}${address}`);
  }
  if (media.rtcpMux) lines.push('a=rtcp-mux');
  lines.push(...media.crypto.map(({ tag, suite, keyParams, sessionParams }) => `a=crypto:${[tag, suite, keyParams, ...sessionParams].join(' ')}`));
  if (media.ptime !== undefined) lines.push(`a=ptime:${media.ptime}`);
  if (media.framerate !== undefined) lines.push(`a=framerate:${media.framerate}`);
  if (media.content !== undefined) lines.push(`a=content:${media.content}`);
  if (media.label !== undefined) lines.push(`a=label:${media.label}`);
  lines.push(`a=${media.direction}`);
  lines.push(...media.ssrcs.map(({ id, attribute, value }) => `a=ssrc:${id} ${attribute}${value === undefined ? '' : `:${value}`}`));
  lines.push(...media.attributes.map(attributeLine), ...others(media.otherLines, 'ik', true));
  return lines;
}
