/** Faults a caller can act on; `code` matches the signaling protocol's error codes. */
export type SfuErrorCode = 'NOT_FOUND' | 'INVALID_STATE' | 'UNSUPPORTED' | 'MEDIA_ERROR';

export class SfuError extends Error {
  constructor(
    readonly code: SfuErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SfuError';
  }
}
