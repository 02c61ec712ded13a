// 录像: a meeting's recordings as the server lists them, fetched with a join token of the meeting
// with a chair role (Bearer). Media elements and download links cannot send headers, so file URLs
// carry the token as `access_token`.
import { apiRequest } from './accountApi';
import { clockText } from './clockText';

export type RecordingStatus = 'recording' | 'finishing' | 'complete' | 'interrupted' | 'failed' | 'stopped-disk-full';

export interface RecordingFile {
  name: string;
  sizeBytes: number;
  /** Relative path to play the file. */
  url: string;
  /** Relative path that downloads it (Content-Disposition: attachment). */
  downloadUrl: string;
}

export interface Recording {
  id: string;
  meetingId: string;
  title: string;
  status: RecordingStatus;
  /** ISO 8601. */
  startedAt: string;
  endedAt: string | null;
  durationS: number | null;
  sizeBytes: number;
  tracks: Array<{ id: string; name: string; kind: string; codec: string; file: string; sizeBytes: number }>;
  /** Everyone in one video, once made. */
  composite: { file: string; sizeBytes: number } | null;
  files: RecordingFile[];
}

export async function listRecordings(meetingId: string, token: string): Promise<Recording[]> {
  const { items } = await apiRequest<{ items: Recording[] }>(`/api/meetings/${encodeURIComponent(meetingId)}/recordings`, { token });
  return items;
}

/** Operators only. */
export async function deleteRecording(recordingId: string, token: string): Promise<void> {
  await apiRequest(`/api/recordings/${encodeURIComponent(recordingId)}`, { method: 'DELETE', token });
}

/** What a <video> plays: the composite, else the first file; null when there is no file yet. */
export function playableFile(recording: Recording): RecordingFile | null {
  return recording.files.find((file) => file.name === recording.composite?.file) ?? recording.files[0] ?? null;
}

export function withAccessToken(url: string, token: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${new URLSearchParams({ access_token: token })}`;
}

/** mm:ss; null while unknown (still recording). */
export function durationText(seconds: number | null): string | null {
  return seconds === null ? null : clockText(seconds, { hours: false });
}

export function megabytesText(bytes: number): string {
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}
