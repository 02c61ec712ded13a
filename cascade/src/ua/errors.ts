import type { SipResponse } from '../sip/message.js';

/** A request answered with a final failure (or 408/503 for a timeout or an unreachable peer). */
export class SipRequestError extends Error {
  override name = 'SipRequestError';

  constructor(
    readonly method: string,
    readonly status: number,
    readonly reason: string,
    /** The response, when the peer sent one (not for local timeouts and transport errors). */
    readonly response?: SipResponse,
  ) {
    const warning = response?.headers.get('Warning');
    super(`${method} failed: ${status} ${reason}${warning ? ` (Warning: ${warning})` : ''}`);
  }
}

/** A method called in a state that does not allow it (accepting twice, re-INVITE on an ended call…). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}
