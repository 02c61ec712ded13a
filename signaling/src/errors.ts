import type { ErrorCode } from './protocol.js';

/** A request failure the client is told about: a stable code and a message saying what to do. */
export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
