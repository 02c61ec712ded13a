// Meeting recordings as LiveKit egresses: egress id = recording id, room = meeting; one file
// result per file, the composite first.
import { recordingDurationMs, type RecordingLibrary, type RecordingManifest, type RecordingStatus } from '@cityconf/recordings';
import type { RecordingEvents } from '../recording/MeetingRecorder.js';
import type { WebhookEgress, WebhookFile } from './events.js';
import type { WebhookNotifier } from './WebhookNotifier.js';

const EGRESS_STATUSES: Record<RecordingStatus, WebhookEgress['status']> = {
  recording: 'EGRESS_ACTIVE',
  finishing: 'EGRESS_ENDING',
  complete: 'EGRESS_COMPLETE',
  failed: 'EGRESS_FAILED',
  'stopped-disk-full': 'EGRESS_LIMIT_REACHED',
  interrupted: 'EGRESS_ABORTED',
};

const time = (iso: string | undefined): number | undefined => (iso === undefined ? undefined : Date.parse(iso));

function files(manifest: RecordingManifest, bytes: ReadonlyMap<string, number>): WebhookFile[] {
  const composite: WebhookFile[] = manifest.composite
    ? [{
        filename: manifest.composite.file,
        bytes: bytes.get(manifest.composite.file) ?? 0,
        durationMs: recordingDurationMs(manifest),
        startedAt: time(manifest.startedAt),
        endedAt: time(manifest.endedAt),
      }]
    : [];
  const tracks = manifest.tracks.map((track): WebhookFile => {
    const startedAt = time(track.startedAt)!;
    const endedAt = time(track.endedAt);
    return { filename: track.file, bytes: bytes.get(track.file) ?? 0, durationMs: endedAt === undefined ? 0 : endedAt - startedAt, startedAt, endedAt };
  });
  return [...composite, ...tracks];
}

function egress(manifest: RecordingManifest, bytes: ReadonlyMap<string, number> = new Map()): WebhookEgress {
  return {
    id: manifest.recordingId,
    roomName: manifest.meetingId,
    status: EGRESS_STATUSES[manifest.status],
    error: manifest.error,
    startedAt: Date.parse(manifest.startedAt),
    endedAt: time(manifest.endedAt),
    files: files(manifest, bytes),
  };
}

/** Sends recording start and end to the configured webhook URLs; file sizes come from `library`. */
export function recordingWebhooks(notifier: WebhookNotifier, library: RecordingLibrary): RecordingEvents {
  return {
    recordingStarted: (manifest) => notifier.egressStarted(egress(manifest)),
    recordingEnded(manifest) {
      void library
        .get(manifest.recordingId)
        .then((summary) => new Map(summary.files.map((file) => [file.name, file.bytes])))
        // Deleted already: the event still goes out, without sizes.
        .catch(() => new Map<string, number>())
        .then((bytes) => notifier.egressEnded(egress(manifest, bytes)));
    },
  };
}
