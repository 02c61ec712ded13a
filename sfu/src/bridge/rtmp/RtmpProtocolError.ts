/**
 * A publisher sent what RTMP does not allow (or what this server does not take): its connection is
 * closed and the message logged. Anything else thrown while reading a connection is a bug here.
 */
export class RtmpProtocolError extends Error {
  override name = 'RtmpProtocolError';
}
