import { readdir, rm, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import type { Logger } from 'pino';
import { buildComposite, COMPOSITE_FILE, type CompositeOptions } from './composite.js';
import { RecordingError } from './errors.js';
import {
  ACTIVE_STATUSES,
  MANIFEST_FILE,
  manifestFiles,
  readManifest,
  recordingDurationMs,
  SAFE_ID,
  writeManifest,
  type RecordingManifest,
  type TrackEntry,
} from './manifest.js';
import { probeDurationSeconds, repairMatroska } from './probe.js';

export interface RecordingLibraryOptions {
  /** The root MeetingRecording writes to. */
  root: string;
  logger: Logger;
  /** How recover() makes composites. */
  composite?: Omit<CompositeOptions, 'logger' | 'ffmpegPath' | 'ffprobePath'>;
  ffmpegPath?: string;
  ffprobePath?: string;
}

export interface RecordingFile {
  name: string;
  /** 0 when the file is missing. */
  bytes: number;
}

export interface RecordingSummary {
  manifest: RecordingManifest;
  durationMs: number;
  totalBytes: number;
  files: RecordingFile[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The recordings under a root, read from their manifests: listing, serving paths, deleting,
 * retention, and recover() for those a crash left unfinished.
 */
export class RecordingLibrary {
  constructor(private readonly options: RecordingLibraryOptions) {}

  /** Every recording (of one meeting, if given), newest first. */
  async list(meetingId?: string): Promise<RecordingSummary[]> {
    const meetings = meetingId === undefined ? await subdirectories(this.options.root) : [meetingId];
    const summaries: RecordingSummary[] = [];
    for (const meeting of meetings) {
      for (const recordingId of await subdirectories(join(this.options.root, meeting))) {
        const summary = await this.summary(join(this.options.root, meeting, recordingId)).catch(() => undefined); // no manifest yet, or not a recording
        if (summary) summaries.push(summary);
      }
    }
    return summaries.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt));
  }

  async get(recordingId: string): Promise<RecordingSummary> {
    return this.summary(await this.dirOf(recordingId));
  }

  /** The absolute path of one of the recording's files; throws unless the manifest lists `fileName`. */
  async filePath(recordingId: string, fileName: string): Promise<string> {
    const dir = await this.dirOf(recordingId);
    const manifest = await readManifest(dir);
    const path = resolve(dir, fileName);
    if (basename(fileName) !== fileName || !path.startsWith(dir + sep) || !manifestFiles(manifest).includes(fileName)) {
      throw new RecordingError('NOT_FOUND', `recording ${recordingId} has no file ${JSON.stringify(fileName)}`);
    }
    return path;
  }

  /** Deletes the recording's directory; refuses while it is being recorded or finished. */
  async delete(recordingId: string): Promise<void> {
    const dir = await this.dirOf(recordingId);
    const { status } = await readManifest(dir);
    if (ACTIVE_STATUSES.includes(status)) throw new RecordingError('INVALID_STATE', `recording ${recordingId} is ${status}`);
    await rm(dir, { recursive: true, force: true });
    this.options.logger.info({ recordingId, dir }, 'recording deleted');
  }

  /** Deletes the finished recordings that ended more than `days` days before `now`; returns their ids. */
  async applyRetention(days: number, now = Date.now()): Promise<string[]> {
    const deleted: string[] = [];
    for (const { manifest } of await this.list()) {
      const ended = Date.parse(manifest.endedAt ?? manifest.startedAt);
      if (ACTIVE_STATUSES.includes(manifest.status) || now - ended <= days * DAY_MS) continue;
      await this.delete(manifest.recordingId);
      deleted.push(manifest.recordingId);
    }
    return deleted;
  }

  /**
   * At server start, before anything records: recordings a crash left 'recording' or 'finishing'
   * become 'interrupted'; each unfinished track file is repaired if its writer died mid-file and
   * ends where its media ends; a composite is made from what is there. Returns their manifests.
   */
  async recover(): Promise<RecordingManifest[]> {
    const recovered: RecordingManifest[] = [];
    for (const { manifest } of await this.list()) {
      if (!ACTIVE_STATUSES.includes(manifest.status)) continue;
      const dir = await this.dirOf(manifest.recordingId);
      const logger = this.options.logger.child({ meetingId: manifest.meetingId, recordingId: manifest.recordingId });
      for (const track of manifest.tracks) if (!track.endedAt) await this.closeTrack(dir, track, logger);
      const trackEnds = manifest.tracks.map((track) => track.endedAt!).sort();
      manifest.status = 'interrupted';
      manifest.endedAt ??= trackEnds.at(-1) ?? manifest.startedAt;
      manifest.error = 'the server stopped while recording';
      delete manifest.composite;
      await rm(join(dir, `.${COMPOSITE_FILE}.partial`), { force: true });
      await writeManifest(dir, manifest);
      if (manifest.tracks.some((track) => track.endedAt! > track.startedAt)) {
        try {
          manifest.composite = await buildComposite(dir, manifest, {
            ...this.options.composite,
            logger,
            ffmpegPath: this.options.ffmpegPath,
          });
        } catch (error) {
          manifest.error += `; the composite could not be made: ${error instanceof Error ? error.message : String(error)}`;
        }
        await writeManifest(dir, manifest);
      }
      logger.warn({ manifest }, 'interrupted recording recovered');
      recovered.push(manifest);
    }
    return recovered;
  }

  /** Ends a track its writer never ended: where its media ends, repairing the file first if it must. */
  private async closeTrack(dir: string, track: TrackEntry, logger: Logger): Promise<void> {
    const file = join(dir, track.file);
    const tools = { ffmpegPath: this.options.ffmpegPath, ffprobePath: this.options.ffprobePath };
    let duration = await probeDurationSeconds(file, tools);
    if (duration === undefined && (await stat(file).then((stats) => stats.size > 0, () => false))) {
      await repairMatroska(file, logger, tools).catch((error: unknown) => logger.error({ err: error, file: track.file }, 'track file could not be repaired'));
      duration = await probeDurationSeconds(file, tools);
    }
    track.endedAt = new Date(Date.parse(track.startedAt) + Math.round((duration ?? 0) * 1000)).toISOString();
    if (duration === undefined) track.error = 'nothing readable was written';
  }

  private async summary(dir: string): Promise<RecordingSummary> {
    const manifest = await readManifest(dir);
    const files = await Promise.all(
      manifestFiles(manifest).map(async (name) => ({ name, bytes: await stat(join(dir, name)).then((stats) => stats.size, () => 0) })),
    );
    return { manifest, durationMs: recordingDurationMs(manifest), totalBytes: files.reduce((sum, file) => sum + file.bytes, 0), files };
  }

  /** The directory of a recording id, wherever its meeting is. */
  private async dirOf(recordingId: string): Promise<string> {
    if (SAFE_ID.test(recordingId)) {
      for (const meeting of await subdirectories(this.options.root)) {
        const dir = resolve(this.options.root, meeting, recordingId);
        if (await stat(join(dir, MANIFEST_FILE)).then(() => true, () => false)) return dir;
      }
    }
    throw new RecordingError('NOT_FOUND', `no recording ${JSON.stringify(recordingId)}`);
  }
}

async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
}
