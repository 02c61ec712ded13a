import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaSource } from '@cityconf/sfu';

export const MANIFEST_FILE = 'manifest.json';

/** Meeting and recording ids, which name directories: no separators, not '.' or '..'. */
export const SAFE_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/**
 * recording → finishing (tracks closing, composite being made) → complete, or failed when nothing
 * usable was written; stopped-disk-full when the disk ran low (no composite: it would need space);
 * interrupted when the server died while recording (recover() finds it and composites what is there).
 */
export type RecordingStatus = 'recording' | 'finishing' | 'complete' | 'interrupted' | 'failed' | 'stopped-disk-full';

/** One file of one producer: a camera stopping and starting again, or its ffmpeg restarting, makes a new track. */
export interface TrackEntry {
  id: string;
  /** File name inside the recording's directory. */
  file: string;
  kind: 'audio' | 'video';
  /** Lower-case codec name as ffprobe says it: opus, vp8, h264. */
  codec: string;
  participantId: string;
  /** The unit's name, as shown in the composite. */
  name: string;
  source: MediaSource;
  startedAt: string;
  /** Unset while the track is being written. */
  endedAt?: string;
  /** Why the track ended early, if it failed. */
  error?: string;
}

/** Who the composite shows from `offsetMs` on: the broadcast venue if set, else the active speaker. */
export interface TimelineEntry {
  offsetMs: number;
  kind: 'speaker' | 'broadcast';
  participantId: string | null;
}

export interface CompositeEntry {
  file: string;
  /** ffmpeg's user + system CPU time making it. */
  cpuSeconds: number;
  /** Wall time making it. */
  elapsedSeconds: number;
}

export interface RecordingManifest {
  recordingId: string;
  meetingId: string;
  title?: string;
  status: RecordingStatus;
  startedAt: string;
  endedAt?: string;
  tracks: TrackEntry[];
  timeline: TimelineEntry[];
  composite?: CompositeEntry;
  /** What went wrong, when status is failed or something (a track, the composite) could not be made. */
  error?: string;
}

/** Statuses in which some process may still write the recording's files. */
export const ACTIVE_STATUSES: readonly RecordingStatus[] = ['recording', 'finishing'];

export async function readManifest(dir: string): Promise<RecordingManifest> {
  return JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as RecordingManifest;
}

let tempCounter = 0;

/** Writes the manifest to a temp file, syncs it and renames it over the old one: readers see one or the other. */
export async function writeManifest(dir: string, manifest: RecordingManifest): Promise<void> {
  const temp = join(dir, `.${MANIFEST_FILE}.${process.pid}.${++tempCounter}.tmp`);
  const handle = await open(temp, 'w');
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, join(dir, MANIFEST_FILE));
}

/** The recording's length: until it ended, else until its last track ended. */
export function recordingDurationMs(manifest: RecordingManifest): number {
  const trackEnds = manifest.tracks.map((track) => track.endedAt).filter((end): end is string => !!end);
  const end = manifest.endedAt ?? trackEnds.sort().at(-1);
  return end ? Math.max(0, Date.parse(end) - Date.parse(manifest.startedAt)) : 0;
}

/** The files the manifest lists: tracks, then the composite. */
export function manifestFiles(manifest: RecordingManifest): string[] {
  return [...manifest.tracks.map((track) => track.file), ...(manifest.composite ? [manifest.composite.file] : [])];
}
