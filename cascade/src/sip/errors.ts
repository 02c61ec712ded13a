/**
 * Input that is not SIP we can act on: a malformed or oversized message, header or URI. The
 * message says what was wrong and where; a transport answers 400 (or drops the datagram).
 */
export class SipParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SipParseError';
  }
}
