// The `recording` scenario: what MeetingRecording costs. N producers on one router (half camera
// video, half Opus microphones, as a meeting's units send them), fed in real time from clips that
// were encoded once (RtpPacer over plain RTP: no live encoder competes for the CPU measured), are
// recorded for the given duration with a few speaker changes, then stopped, which makes the
// composite. CPU comes from /proc: the track ffmpegs over a window while they record, the
// mediasoup worker with and without the recorders' consumers, and the composite ffmpeg's whole
// life (reaped-children time of this process).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount, Sfu, type mediasoupTypes as ms, type SfuConfig } from '@cityconf/sfu';
import { pino } from 'pino';
import { MeetingRecording, recordingDurationMs, type RecordingManifest, type TrackEntry } from '../../recordings/src/index.js';
import { CLIP_SECONDS, loadAudioClip, loadClip, type Clip, type ClipSpec } from './mediaClips.js';
import { round1, sleep } from './meetingScenario.js';
import { childPids, commandLine, GroupCpuWindow } from './processTree.js';
import { reapedChildrenCpuMicros, UsageWindow } from './resourceUsage.js';
import { RtpPacer, type RtpStream } from './RtpPacer.js';

export type RecordedVideoCodec = 'vp8' | 'h264';

export interface RecordingScenarioOptions {
  /** Producers recorded: camera and microphone of ⌈tracks / 2⌉ units, video first. */
  tracks: number;
  /** How long the recording runs, from MeetingRecording.start() to stop(). */
  durationSeconds: number;
  videoCodec: RecordedVideoCodec;
  /** Speaker changes, evenly spread over the recording (the composite follows the speaker). */
  speakerChanges: number;
  /** The worker's CPU with the producers fed and nothing recorded, measured before the recording. */
  baselineSeconds: number;
  log: (message: string) => void;
}

export const DEFAULT_RECORDING_OPTIONS: RecordingScenarioOptions = {
  tracks: 12,
  durationSeconds: 60,
  videoCodec: 'vp8',
  speakerChanges: 5,
  baselineSeconds: 10,
  log: () => undefined,
};

export interface RecordingResult {
  tracks: number;
  video_tracks: number;
  audio_tracks: number;
  video_codec: RecordedVideoCodec;
  /** The recording's length (manifest: start to end). */
  duration_s: number;
  /** The window the track ffmpegs and the worker are measured over: the recording less its first WARM_UP_MS. */
  window_s: number;
  /** Track ffmpegs' CPU ÷ tracks, % of one core. */
  recording_cpu_pct_per_track: number;
  recording_cpu_pct_per_video_track: number;
  recording_cpu_pct_per_audio_track: number;
  recording_ffmpeg_processes: number;
  /** The mediasoup worker while recording: the producers and the recorders' consumers. */
  worker_cpu_pct: number;
  /** The same worker with the same producers fed, before anything was recorded. */
  worker_cpu_pct_without_recording: number;
  /** (worker_cpu_pct − worker_cpu_pct_without_recording) ÷ tracks. */
  worker_cpu_pct_per_recorded_track: number;
  /** The composite ffmpeg's CPU over its whole life (user + system, all threads). */
  composite_cpu_s: number;
  /** What MeetingRecording itself put in the manifest (sampled every 200 ms, so a little low). */
  composite_cpu_s_manifest: number;
  composite_wall_s: number;
  composite_cpu_s_per_recorded_minute: number;
  /** Recording duration ÷ composite wall time: how many times faster than real time. */
  composite_realtime_factor: number;
  composite_bytes: number;
  bytes_per_track_per_minute: number;
  bytes_per_video_track_per_minute: number;
  bytes_per_audio_track_per_minute: number;
  /** The replayed clips' RTP payload rate. */
  clip_video_kbps: number;
  clip_audio_kbps: number;
  speaker_changes: number;
  /** Track files that ended with an error, and ffmpeg restarts (both should be 0). */
  track_errors: number;
  track_restarts: number;
  /** This process (the RTP pacer, the recording's control), % of one core over the window. */
  node_cpu_pct: number;
  /** Busy share of all the host's cores over the window, and what processes not ours used (% of one core). */
  host_cpu_pct: number;
  host_steal_pct: number;
  other_processes_cpu_pct: number;
  host_cpu_pct_during_composite: number;
  machine: { cpu: string; cores: number; memory_gib: number; node: string; ffmpeg: string };
  method: string;
}

/** The recording's first seconds are left out of the window: ffmpeg probes its input, key frames arrive. */
const WARM_UP_MS = 3_000;
/** Packets flow this long before the worker's baseline is measured. */
const FEED_WARM_UP_MS = 2_000;
const CAMERA_FPS = 30;
const CAMERA_KBPS = 600;
const SFU_CONFIG: SfuConfig = {
  numWorkers: 1,
  rtcMinPort: 46000,
  rtcMaxPort: 46999,
  listenIps: [{ ip: '127.0.0.1' }],
  workerLogLevel: 'none',
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 0,
};

/** A 640×360 camera: testsrc2 with a little temporal noise (so the encoder spends its bit rate), key frame every 2 s. */
const CAMERA_INPUT = ['-f', 'lavfi', '-i', `testsrc2=size=640x360:rate=${CAMERA_FPS}`, '-t', `${CLIP_SECONDS}`, '-vf', 'noise=alls=8:allf=t'];
const GOP = ['-g', `${CAMERA_FPS * 2}`, '-keyint_min', `${CAMERA_FPS * 2}`];
const RATE = [`-b:v`, `${CAMERA_KBPS}k`, '-maxrate', `${CAMERA_KBPS}k`];

/** The camera clip per codec, and the router codec its producers use (H.264: constrained baseline 3.1). */
const CAMERA: Record<RecordedVideoCodec, { spec: ClipSpec; mimeType: string; profileLevelId?: string }> = {
  vp8: {
    spec: {
      kind: 'video',
      videoCodec: 'vp8',
      clockRate: 90000,
      frameTs: 90000 / CAMERA_FPS,
      args: [...CAMERA_INPUT, '-c:v', 'libvpx', ...RATE, '-minrate', `${CAMERA_KBPS}k`, ...GOP,
        '-deadline', 'realtime', '-cpu-used', '8', '-auto-alt-ref', '0', '-error-resilient', '1'],
    },
    mimeType: 'video/VP8',
  },
  h264: {
    spec: {
      kind: 'video',
      videoCodec: 'h264',
      clockRate: 90000,
      frameTs: 90000 / CAMERA_FPS,
      args: [...CAMERA_INPUT, '-c:v', 'libx264', '-profile:v', 'baseline', '-level', '3.1', '-preset', 'veryfast', '-tune', 'zerolatency',
        '-pix_fmt', 'yuv420p', ...RATE, '-bufsize', `${CAMERA_KBPS}k`, ...GOP, '-sc_threshold', '0'],
    },
    mimeType: 'video/H264',
    profileLevelId: '42e01f',
  },
};

/** A producer's codec as the router offers it (its preferred payload type, parameters and feedback). */
function routerCodec(router: ms.Router, mimeType: string, profileLevelId?: string): ms.RtpCodecParameters {
  const capability = router.rtpCapabilities.codecs?.find(
    (codec) => codec.mimeType.toLowerCase() === mimeType.toLowerCase() && (!profileLevelId || codec.parameters?.['profile-level-id'] === profileLevelId),
  );
  if (!capability) throw new Error(`the router offers no ${mimeType} ${profileLevelId ?? ''}`);
  const { clockRate, channels, parameters, rtcpFeedback, preferredPayloadType } = capability;
  return { mimeType: capability.mimeType, payloadType: preferredPayloadType!, clockRate, channels, parameters, rtcpFeedback };
}

/** One recorded producer, the unit it belongs to and the stream that feeds it. */
interface FedTrack {
  producer: ms.Producer;
  unit: number;
  kind: 'audio' | 'video';
  feed: RtpStream;
}

const unitId = (unit: number) => `unit-${unit + 1}`;
/** Per-track CPU shares are small: two decimals. */
const round2 = (value: number) => Math.round(value * 100) / 100;

/** RTP payload bit rate of a clip, kbit/s. */
function clipKbps(clip: Clip): number {
  const bytes = clip.packets.reduce((sum, packet) => sum + packet.payload.length, 0);
  return Math.round((bytes * 8) / (clip.durationTs / clip.clockRate) / 1000);
}

/** Producers on `router`, each on its own comedia plain transport (rtcp-mux), fed by `pacer`. */
async function feedTracks(router: ms.Router, pacer: RtpPacer, count: number, clips: { video: Clip; audio: Clip }, videoCodec: RecordedVideoCodec) {
  const tracks: FedTrack[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 2 === 0 ? 'video' : 'audio';
    const { mimeType, profileLevelId } = kind === 'video' ? CAMERA[videoCodec] : { mimeType: 'audio/opus', profileLevelId: undefined };
    const codec = routerCodec(router, mimeType, profileLevelId);
    const ssrc = 1000 + i;
    const transport = await router.createPlainTransport({ listenIp: SFU_CONFIG.listenIps[0]!, rtcpMux: true, comedia: true });
    const producer = await transport.produce({ kind, rtpParameters: { codecs: [codec], encodings: [{ ssrc }] } });
    const target = { ip: transport.tuple.localIp, port: transport.tuple.localPort, ssrc, payloadType: codec.payloadType };
    const feed = pacer.stream(kind === 'video' ? clips.video : clips.audio, target);
    feed.start(performance.now());
    tracks.push({ producer, unit: Math.floor(i / 2), kind, feed });
  }
  return tracks;
}

/** The track ffmpegs of `recording` now, of one kind (their output file names say camera or microphone). */
function trackFfmpegs(recording: MeetingRecording, kind: 'audio' | 'video'): number[] {
  const source = kind === 'video' ? '-camera-' : '-microphone-';
  return childPids().filter((pid) => {
    const command = commandLine(pid);
    return command.includes(recording.dir) && command.includes(source);
  });
}

/** Bytes per minute of each track's own duration, averaged over the tracks. */
function bytesPerMinute(dir: string, tracks: TrackEntry[]): number {
  const rates = tracks.map((track) => {
    const minutes = (Date.parse(track.endedAt!) - Date.parse(track.startedAt)) / 60_000;
    return statSync(join(dir, track.file)).size / minutes;
  });
  return Math.round(rates.reduce((sum, rate) => sum + rate, 0) / Math.max(1, rates.length));
}

function machine(): RecordingResult['machine'] {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    ffmpeg: execFileSync('/usr/bin/ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0]!.split(' Copyright')[0]!,
  };
}

export async function runRecordingScenario(overrides: Partial<RecordingScenarioOptions> = {}): Promise<RecordingResult> {
  const options = { ...DEFAULT_RECORDING_OPTIONS, ...overrides };
  const { log, videoCodec } = options;
  if (!CAMERA[videoCodec]) throw new RangeError(`videoCodec: vp8 or h264, not ${String(videoCodec)}`);
  if (!(options.tracks >= 1)) throw new RangeError(`tracks: at least 1, not ${options.tracks}`);
  if (!(options.durationSeconds * 1000 >= 2 * WARM_UP_MS)) throw new RangeError(`durationSeconds: at least ${(2 * WARM_UP_MS) / 1000}`);
  const clips = { video: await loadClip(CAMERA[videoCodec].spec), audio: await loadAudioClip() };
  const logger = pino({ level: process.env.BENCH_RECORDING_LOG ?? 'silent' });
  const root = mkdtempSync(join(tmpdir(), 'cityconf-bench-recording-'));
  const sfu = await Sfu.create(SFU_CONFIG, logger);
  const pacer = await RtpPacer.create();
  let recording: MeetingRecording | undefined;
  try {
    const { router } = await sfu.openMeeting('bench-recording');
    const workerPid = sfu.pool.workers[0]!.pid;
    const tracks = await feedTracks(router, pacer, options.tracks, clips, videoCodec);
    const units = Math.ceil(options.tracks / 2);
    log(`${tracks.length} producers fed (${videoCodec} ${clipKbps(clips.video)} kbit/s, opus ${clipKbps(clips.audio)} kbit/s); worker baseline for ${options.baselineSeconds} s`);
    await sleep(FEED_WARM_UP_MS);
    const baseline = new UsageWindow([workerPid]);
    await sleep(options.baselineSeconds * 1000);
    const withoutRecording = baseline.end();

    recording = await MeetingRecording.start({ root, meetingId: 'bench-recording', title: '录制基准', router, listenIp: SFU_CONFIG.listenIps[0]!, logger });
    const startedAt = performance.now();
    let trackStarts = 0;
    recording.on('trackstarted', () => trackStarts++);
    recording.setSpeaker(unitId(0));
    await Promise.all(
      tracks.map(({ producer, unit, kind }) =>
        recording!.addTrack(producer, { participantId: unitId(unit), name: `${unit + 1}号单位`, source: kind === 'video' ? 'camera' : 'microphone' }),
      ),
    );
    log(`recording ${tracks.length} tracks for ${options.durationSeconds} s with ${options.speakerChanges} speaker changes`);
    await sleep(startedAt + WARM_UP_MS - performance.now());
    const usage = new UsageWindow([workerPid]);
    const videoCpu = new GroupCpuWindow(() => trackFfmpegs(recording!, 'video'));
    const audioCpu = new GroupCpuWindow(() => trackFfmpegs(recording!, 'audio'));
    const durationMs = options.durationSeconds * 1000;
    for (let change = 1; change <= options.speakerChanges; change++) {
      await sleep(startedAt + (change * durationMs) / (options.speakerChanges + 1) - performance.now());
      recording.setSpeaker(unitId(change % units));
    }
    await sleep(startedAt + durationMs - performance.now());
    const used = usage.end();
    const video = videoCpu.end();
    const audio = audioCpu.end();

    // The tracks are closed (their ffmpegs reaped) when 'stopped' fires; the composite follows.
    // The feed stops there too, so that the composite is timed on a machine without a meeting.
    let compositeStart: { childrenMicros: number; usage: UsageWindow } | undefined;
    recording.once('stopped', () => {
      for (const { feed } of tracks) feed.stop();
      compositeStart = { childrenMicros: reapedChildrenCpuMicros(), usage: new UsageWindow([]) };
    });
    log('stopping: closing the track files, then the composite');
    const manifest: RecordingManifest = await recording.stop();
    const compositeMicros = reapedChildrenCpuMicros() - compositeStart!.childrenMicros;
    const duringComposite = compositeStart!.usage.end();
    if (!manifest.composite) throw new Error(`no composite: ${manifest.error ?? manifest.status}`);

    const pct = (micros: number) => micros / 1e4 / used.seconds;
    const videoTracks = tracks.filter((track) => track.kind === 'video').length;
    const audioTracks = tracks.length - videoTracks;
    const recordedS = recordingDurationMs(manifest) / 1000;
    const workerPct = pct(used.workerCpuMicros[0]!);
    const workerBaselinePct = withoutRecording.workerCpuMicros[0]! / 1e4 / withoutRecording.seconds;
    const oursPct = workerPct + pct(video.micros + audio.micros + used.processCpuMicros);
    const manifestTracks = (kind: 'audio' | 'video') => manifest.tracks.filter((track) => track.kind === kind);
    return {
      tracks: tracks.length,
      video_tracks: videoTracks,
      audio_tracks: audioTracks,
      video_codec: videoCodec,
      duration_s: round1(recordedS),
      window_s: round1(used.seconds),
      recording_cpu_pct_per_track: round2(pct(video.micros + audio.micros) / tracks.length),
      recording_cpu_pct_per_video_track: round2(pct(video.micros) / Math.max(1, videoTracks)),
      recording_cpu_pct_per_audio_track: round2(pct(audio.micros) / Math.max(1, audioTracks)),
      recording_ffmpeg_processes: video.processes + audio.processes,
      worker_cpu_pct: round2(workerPct),
      worker_cpu_pct_without_recording: round2(workerBaselinePct),
      worker_cpu_pct_per_recorded_track: round2((workerPct - workerBaselinePct) / tracks.length),
      composite_cpu_s: round1(compositeMicros / 1e6),
      composite_cpu_s_manifest: round1(manifest.composite.cpuSeconds),
      composite_wall_s: round1(manifest.composite.elapsedSeconds),
      composite_cpu_s_per_recorded_minute: round1(compositeMicros / 1e6 / (recordedS / 60)),
      composite_realtime_factor: round1(recordedS / manifest.composite.elapsedSeconds),
      composite_bytes: statSync(join(recording.dir, manifest.composite.file)).size,
      bytes_per_track_per_minute: bytesPerMinute(recording.dir, manifest.tracks),
      bytes_per_video_track_per_minute: bytesPerMinute(recording.dir, manifestTracks('video')),
      bytes_per_audio_track_per_minute: bytesPerMinute(recording.dir, manifestTracks('audio')),
      clip_video_kbps: clipKbps(clips.video),
      clip_audio_kbps: clipKbps(clips.audio),
      speaker_changes: manifest.timeline.filter((entry) => entry.kind === 'speaker').length - 1,
      track_errors: manifest.tracks.filter((track) => track.error !== undefined).length,
      track_restarts: trackStarts - tracks.length,
      node_cpu_pct: round1(pct(used.processCpuMicros)),
      host_cpu_pct: round1(used.hostBusyPct),
      host_steal_pct: round1(used.hostStealPct),
      other_processes_cpu_pct: round1(Math.max(0, used.hostBusyPct * cpus().length - oursPct)),
      host_cpu_pct_during_composite: round1(duringComposite.hostBusyPct),
      machine: machine(),
      method:
        'track ffmpegs: utime+stime from /proc of the ffmpeg children writing this recording, over the window; worker: /proc of the mediasoup worker, ' +
        'same window, and before recording with the same feed; composite: cutime+cstime of this process across the composite (the feed stopped), wall time from the manifest',
    };
  } finally {
    log('tearing down');
    pacer.close();
    await recording?.stop();
    sfu.close();
    rmSync(root, { recursive: true, force: true });
    if (liveFfmpegCount() > 0) log(`${liveFfmpegCount()} ffmpeg processes still running`);
  }
}
