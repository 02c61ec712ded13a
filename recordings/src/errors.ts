/** Faults a caller can act on; `code` is a stable string the REST API can pass on. */
export type RecordingErrorCode = 'NOT_FOUND' | 'INVALID_STATE' | 'INVALID_ARGUMENT' | 'UNSUPPORTED' | 'DISK_FULL';

export class RecordingError extends Error {
  constructor(
    readonly code: RecordingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}
