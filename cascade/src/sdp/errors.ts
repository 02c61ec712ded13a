/** An SDP body that cannot be read or used; the SIP answer is 400 Bad Request (or 488 for an answer we cannot use). */
export class SdpError extends Error {
  override name = 'SdpError';
}

/**
 * An offer with nothing we can receive: answer 488 Not Acceptable Here with a Warning header
 * (`399 <host> "<warning>"`) telling the peer what we support.
 */
export class NoCommonCodecError extends Error {
  override name = 'NoCommonCodecError';

  constructor(
    /** Why each offered m-line was refused, in offer order. */
    readonly reasons: string[],
    /** What we support, for the Warning header (ASCII, no double quotes). */
    readonly warning: string,
  ) {
    super(`no media in common: ${reasons.join('; ')}. We support ${warning}`);
  }
}
