import type { types as ms } from 'mediasoup';

/** One RTP stream ffmpeg receives: what a consumer sends, and the port ffmpeg listens on for it. */
export interface ReceiveStream {
  kind: ms.MediaKind;
  /** ffmpeg's RTP port; it listens for RTCP on port + 1. */
  port: number;
  rtpParameters: ms.RtpParameters;
  /** SDES key of an SRTP stream (RFC 4568 suite, base64 key and salt): ffmpeg decrypts it. */
  srtp?: { suite: string; key: string };
}

/**
 * The SDP that makes ffmpeg (`-protocol_whitelist file,udp,rtp -i job.sdp`) receive `streams` on
 * `ip`: one m-line per stream with the consumer's media codec (RTX, if any, is left out: ffmpeg
 * does not ask for retransmissions).
 */
export function receiveSdp(streams: ReceiveStream[], ip = '127.0.0.1'): string {
  if (streams.length === 0) throw new RangeError('an SDP needs at least one stream');
  const lines = ['v=0', `o=- 0 0 IN IP4 ${ip}`, 's=cityconf rtp bridge', `c=IN IP4 ${ip}`, 't=0 0'];
  for (const stream of streams) lines.push(...mediaSection(stream));
  return `${lines.join('\r\n')}\r\n`;
}

function mediaSection({ kind, port, rtpParameters, srtp }: ReceiveStream): string[] {
  const codec = rtpParameters.codecs.find((candidate) => !/\/rtx$/i.test(candidate.mimeType));
  if (!codec) throw new RangeError(`the ${kind} stream on port ${port} has no media codec`);
  const encodingName = codec.mimeType.split('/')[1]!;
  const channels = kind === 'audio' && (codec.channels ?? 1) > 1 ? `/${codec.channels}` : '';
  const lines = [`m=${kind} ${port} ${srtp ? 'RTP/SAVP' : 'RTP/AVP'} ${codec.payloadType}`, `a=rtpmap:${codec.payloadType} ${encodingName}/${codec.clockRate}${channels}`];
  const fmtp = Object.entries(codec.parameters ?? {})
    .filter(([name]) => !name.startsWith('x-google-'))
    .map(([name, value]) => `${name}=${String(value)}`)
    .join(';');
  if (fmtp) lines.push(`a=fmtp:${codec.payloadType} ${fmtp}`);
  if (srtp) lines.push(`a=crypto:1 ${srtp.suite} inline:${srtp.key}`);
  lines.push('a=recvonly');
  return lines;
}
