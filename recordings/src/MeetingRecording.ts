import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RtpBridge, type ListenIp, type MediaSource, type mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from 'pino';
import { buildComposite, type CompositeOptions } from './composite.js';
import { DiskGuard, type DiskGuardOptions } from './DiskGuard.js';
import { RecordingError } from './errors.js';
import { SAFE_ID, writeManifest, type CompositeEntry, type RecordingManifest, type TrackEntry } from './manifest.js';

export interface MeetingRecordingOptions {
  /** Recordings go to `<root>/<meetingId>/<recordingId>/`. */
  root: string;
  meetingId: string;
  /** Default: a random UUID. */
  recordingId?: string;
  title?: string;
  /**
   * The router the recorded producers are consumed on. A producer on another of the meeting's
   * routers must be piped to this one first (Meeting.pipeProducer).
   */
  router: ms.Router;
  /** Where mediasoup's side of the plain transports listens (the SFU's configured listen address). */
  listenIp: ListenIp;
  logger: Logger;
  /** UDP ports the track ffmpegs may listen on (default: RtpBridge's). */
  ports?: { min: number; max: number };
  /** Free space the recording needs on root's file system, and how it is checked. */
  disk?: Omit<DiskGuardOptions, 'path'>;
  /** How the composite is made after stop(). */
  composite?: Omit<CompositeOptions, 'logger' | 'ffmpegPath'>;
  ffmpegPath?: string;
  /** The clock (ms since the epoch; default Date.now). */
  now?: () => number;
}

export interface TrackInfo {
  participantId: string;
  /** The unit's name, drawn on the composite. */
  name: string;
  source: MediaSource;
}

/** Why a recording stopped: asked to, or the disk ran low. */
export type StopReason = 'requested' | 'disk-full';

export type CompositeOutcome = { ok: true; composite: CompositeEntry } | { ok: false; error: Error };

export interface MeetingRecordingEvents {
  /** A track's file is being written (again, in a new file, after its ffmpeg restarted). */
  trackstarted: [track: TrackEntry];
  /** A track's file is complete: removeTrack, its producer closed, or the recording stopped. */
  trackended: [track: TrackEntry];
  /** A track could not be recorded (any more); its file holds what was written. */
  trackfailed: [track: TrackEntry, reason: Error];
  /** Every track's file is complete. */
  stopped: [reason: StopReason];
  composite: [outcome: CompositeOutcome];
}

/** A recorded producer and the file its ffmpeg writes now. */
interface TrackJob {
  producerId: string;
  info: TrackInfo;
  kind: 'audio' | 'video';
  codec: string;
  bridge?: RtpBridge;
  entry?: TrackEntry;
}

/** How each codec is stored, without transcoding. */
const CONTAINERS: Record<string, { extension: string; format: string }> = {
  opus: { extension: 'webm', format: 'webm' },
  vp8: { extension: 'webm', format: 'webm' },
  h264: { extension: 'mkv', format: 'matroska' },
};

/**
 * Matroska as written for a crash: the muxer keeps a cluster in memory until it closes, so clusters
 * close every second, and each is flushed to the file at once. A killed ffmpeg loses at most the
 * last cluster; the file plays, and RecordingLibrary.recover() gives it back its duration.
 */
const CRASH_SAFE_MATROSKA = ['-cluster_time_limit', '1000', '-cluster_size_limit', '4M', '-flush_packets', '1'];

/**
 * One meeting's recording: each added producer is written, as it comes, to its own file through
 * its own RtpBridge job, and the speaker/broadcast changes to a timeline; stop() closes the files
 * and makes the composite. The manifest in the recording's directory says all of it at every
 * moment. The recording owns its track jobs and its disk guard, and stop() ends them.
 */
export class MeetingRecording extends EventEmitter<MeetingRecordingEvents> {
  private readonly jobs = new Map<string, TrackJob>();
  private readonly starting = new Set<Promise<unknown>>();
  private trackCount = 0;
  private saving: Promise<void> = Promise.resolve();
  private stopping?: Promise<RecordingManifest>;

  private constructor(
    private readonly options: MeetingRecordingOptions,
    readonly dir: string,
    private readonly manifest: RecordingManifest,
    private readonly disk: DiskGuard,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Creates the directory and manifest and starts watching the disk; throws DISK_FULL if it is low already. */
  static async start(options: MeetingRecordingOptions): Promise<MeetingRecording> {
    const recordingId = options.recordingId ?? randomUUID();
    for (const [what, id] of [['meetingId', options.meetingId], ['recordingId', recordingId]]) {
      if (!SAFE_ID.test(id!)) throw new RecordingError('INVALID_ARGUMENT', `${what} must be letters, digits, '_', '-' or '.', got ${JSON.stringify(id)}`);
    }
    await mkdir(options.root, { recursive: true });
    const disk = new DiskGuard({ ...options.disk, path: options.root });
    await disk.assertRoom();
    const dir = join(options.root, options.meetingId, recordingId);
    await mkdir(dir, { recursive: true });
    const now = options.now ?? Date.now;
    const manifest: RecordingManifest = {
      recordingId,
      meetingId: options.meetingId,
      ...(options.title === undefined ? {} : { title: options.title }),
      status: 'recording',
      startedAt: new Date(now()).toISOString(),
      tracks: [],
      timeline: [],
    };
    await writeManifest(dir, manifest);
    const logger = options.logger.child({ meetingId: options.meetingId, recordingId });
    const recording = new MeetingRecording(options, dir, manifest, disk, logger);
    disk.on('low', (freeBytes) => {
      logger.error({ freeBytes }, 'disk space low: stopping the recording');
      void recording.stop('disk-full');
    });
    disk.watch();
    logger.info({ dir }, 'recording started');
    return recording;
  }

  get id(): string {
    return this.manifest.recordingId;
  }

  /** A copy of the manifest as it is now. */
  get snapshot(): RecordingManifest {
    return structuredClone(this.manifest);
  }

  /**
   * Records `producer` (on the recording's router) into a new file until removeTrack, the producer
   * closing, or stop(). Resolves once its ffmpeg receives; rejects (emitting 'trackfailed' if a
   * file was begun) if it cannot start.
   */
  async addTrack(producer: ms.Producer, info: TrackInfo): Promise<TrackEntry> {
    this.assertRecording();
    if (this.jobs.has(producer.id)) throw new RecordingError('INVALID_STATE', `producer ${producer.id} is recorded already`);
    const codec = producer.rtpParameters.codecs[0]?.mimeType.split('/')[1]?.toLowerCase() ?? '';
    if (!CONTAINERS[codec]) throw new RecordingError('UNSUPPORTED', `cannot record ${codec || 'unknown'} without transcoding`);
    const job: TrackJob = { producerId: producer.id, info, kind: producer.kind, codec };
    this.jobs.set(producer.id, job);
    const starting = RtpBridge.start({
      jobId: `recording ${this.id} ${producer.id}`,
      router: this.options.router,
      producers: [producer],
      listenIp: this.options.listenIp,
      outputArgs: () => this.beginFile(job),
      logger: this.logger,
      ports: this.options.ports,
      ffmpegPath: this.options.ffmpegPath,
    });
    this.starting.add(starting);
    try {
      job.bridge = await starting;
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      this.jobs.delete(producer.id);
      if (job.entry) this.endFile(job.entry, reason);
      throw reason;
    } finally {
      this.starting.delete(starting);
    }
    this.superviseTrack(job, job.bridge);
    this.fileStarted(job.entry!);
    return { ...job.entry! };
  }

  /** Ends the producer's file; resolves when it is complete. */
  async removeTrack(producerId: string): Promise<void> {
    const job = this.jobs.get(producerId);
    if (!job?.bridge) throw new RecordingError('NOT_FOUND', `producer ${producerId} is not being recorded`);
    await job.bridge.stop();
  }

  /** The active speaker from now on (null: nobody). */
  setSpeaker(participantId: string | null): void {
    this.mark('speaker', participantId);
  }

  /** The broadcast venue from now on, shown in preference to the speaker (null: none). */
  setBroadcast(participantId: string | null): void {
    this.mark('broadcast', participantId);
  }

  /**
   * Ends every track (ffmpeg finishes its file), then makes the composite, unless the disk ran low.
   * Resolves with the final manifest; calling it again returns the same.
   */
  stop(reason: StopReason = 'requested'): Promise<RecordingManifest> {
    this.stopping ??= this.finish(reason);
    return this.stopping;
  }

  private async finish(reason: StopReason): Promise<RecordingManifest> {
    this.disk.stop();
    this.manifest.status = 'finishing';
    this.manifest.endedAt = this.nowIso();
    this.save();
    await Promise.allSettled(this.starting);
    await Promise.all([...this.jobs.values()].map((job) => job.bridge?.stop()));
    await this.saving;
    this.logger.info({ reason }, 'recording stopped');
    this.emit('stopped', reason);
    if (reason === 'disk-full') {
      this.manifest.status = 'stopped-disk-full';
      this.manifest.error = 'the disk ran low on space; the recording stopped and no composite was made';
    } else if (!this.manifest.tracks.length) {
      this.manifest.status = 'failed';
      this.manifest.error = 'nothing was recorded';
    } else {
      await this.composite();
    }
    this.save();
    await this.saving;
    return this.snapshot;
  }

  private async composite(): Promise<void> {
    try {
      const composite = await buildComposite(this.dir, this.snapshot, {
        ...this.options.composite,
        logger: this.logger,
        ffmpegPath: this.options.ffmpegPath,
      });
      this.manifest.composite = composite;
      this.manifest.status = 'complete';
      this.logger.info({ composite }, 'composite made');
      this.emit('composite', { ok: true, composite });
    } catch (error) {
      const reason = error instanceof Error ? error : new Error(String(error));
      // The track files are the recording; a composite can be made again from them.
      this.manifest.status = 'complete';
      this.manifest.error = `the composite could not be made: ${reason.message}`;
      this.logger.error({ err: reason }, 'composite failed');
      this.emit('composite', { ok: false, error: reason });
    }
  }

  /** Called by the bridge for each ffmpeg run: the first writes the track's file, each restart a new one. */
  private beginFile(job: TrackJob): string[] {
    if (job.entry) {
      this.endFile(job.entry, new Error('its ffmpeg exited; continued in a new file'));
    }
    const { extension, format } = CONTAINERS[job.codec]!;
    const id = `t${String(++this.trackCount).padStart(3, '0')}`;
    const participant = job.info.participantId.replace(/[^\w-]/g, '_').slice(0, 64);
    const entry: TrackEntry = {
      id,
      file: `${id}-${job.info.source}-${participant}.${extension}`,
      kind: job.kind,
      codec: job.codec,
      participantId: job.info.participantId,
      name: job.info.name,
      source: job.info.source,
      startedAt: this.nowIso(),
    };
    job.entry = entry;
    this.manifest.tracks.push(entry);
    this.save();
    return ['-map', '0', '-c', 'copy', '-f', format, ...CRASH_SAFE_MATROSKA, '-y', join(this.dir, entry.file)];
  }

  private superviseTrack(job: TrackJob, bridge: RtpBridge): void {
    bridge.on('restarted', () => this.fileStarted(job.entry!));
    // A video file's picture starts with its first key frame, which may come a GOP after ffmpeg did.
    bridge.on('keyframe', () => this.pictureStarted(job.entry!));
    bridge.once('stopped', () => {
      this.jobs.delete(job.producerId);
      this.endFile(job.entry!);
    });
    bridge.once('failed', (reason) => {
      this.jobs.delete(job.producerId);
      this.endFile(job.entry!, reason);
    });
  }

  /** Media flows into the file from now: its start, for the composite's timing. */
  private fileStarted(entry: TrackEntry): void {
    entry.startedAt = this.nowIso();
    this.save();
    this.logger.info({ track: entry }, 'track started');
    this.emit('trackstarted', { ...entry });
  }

  /** The video file's first key frame went to ffmpeg: its media, and its timing, start here. */
  private pictureStarted(entry: TrackEntry): void {
    if (entry.endedAt) return;
    entry.startedAt = this.nowIso();
    this.save();
  }

  private endFile(entry: TrackEntry, reason?: Error): void {
    if (entry.endedAt) return;
    entry.endedAt = this.nowIso();
    if (reason) entry.error = reason.message;
    this.save();
    if (reason) {
      this.logger.warn({ track: entry, err: reason }, 'track failed');
      this.emit('trackfailed', { ...entry }, reason);
    } else {
      this.logger.info({ track: entry }, 'track ended');
      this.emit('trackended', { ...entry });
    }
  }

  private mark(kind: 'speaker' | 'broadcast', participantId: string | null): void {
    if (this.manifest.status !== 'recording') return;
    const current = this.manifest.timeline.filter((entry) => entry.kind === kind).at(-1)?.participantId ?? null;
    if (current === participantId) return;
    const offsetMs = Math.max(0, this.now() - Date.parse(this.manifest.startedAt));
    this.manifest.timeline.push({ offsetMs, kind, participantId });
    this.save();
  }

  private assertRecording(): void {
    if (this.manifest.status !== 'recording') throw new RecordingError('INVALID_STATE', `recording ${this.id} is ${this.manifest.status}`);
  }

  /** Queues a write of the manifest as it is now; writes happen one after another. */
  private save(): void {
    const manifest = this.snapshot;
    this.saving = this.saving
      .then(() => writeManifest(this.dir, manifest))
      .catch((error: unknown) => this.logger.error({ err: error }, 'manifest could not be written'));
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }
}
