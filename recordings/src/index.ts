export { buildComposite, COMPOSITE_FILE, planShownVideo, type CompositeOptions, type PlacedTrack, type ShownVideo } from './composite.js';
export { DEFAULT_MIN_FREE_BYTES, DiskGuard, type DiskGuardEvents, type DiskGuardOptions } from './DiskGuard.js';
export { RecordingError, type RecordingErrorCode } from './errors.js';
export {
  MANIFEST_FILE,
  readManifest,
  recordingDurationMs,
  type CompositeEntry,
  type RecordingManifest,
  type RecordingStatus,
  type TimelineEntry,
  type TrackEntry,
} from './manifest.js';
export {
  MeetingRecording,
  type CompositeOutcome,
  type MeetingRecordingEvents,
  type MeetingRecordingOptions,
  type StopReason,
  type TrackInfo,
} from './MeetingRecording.js';
export type { MediaTools } from './probe.js';
export { RecordingLibrary, type RecordingFile, type RecordingLibraryOptions, type RecordingSummary } from './RecordingLibrary.js';
export { serveRecordingFile, type ServeOptions } from './serveRecordingFile.js';
