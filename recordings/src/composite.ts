import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FfmpegProcess } from '@cityconf/sfu';
import type { Logger } from 'pino';
import { recordingDurationMs, type CompositeEntry, type RecordingManifest, type TrackEntry } from './manifest.js';
import type { MediaTools } from './probe.js';

export interface CompositeOptions extends MediaTools {
  logger: Logger;
  width?: number;
  height?: number;
  fps?: number;
  /**
   * A font with Chinese glyphs for the units' names; default: WenQuanYi Micro Hei, else any font
   * fontconfig lists for zh. null, or no such font: the names are not drawn.
   */
  fontFile?: string | null;
  /** ffmpeg's nice value: the composite yields the CPU to live meetings (default 10). */
  niceness?: number;
}

/** One stretch of the composite's picture: a video track, or black when trackId is null. */
export interface ShownVideo {
  trackId: string | null;
  fromS: number;
  toS: number;
}

export const COMPOSITE_FILE = 'composite.mp4';
const DEFAULT_NICENESS = 10;
const CPU_SAMPLE_MS = 200;
/** Linux's USER_HZ, the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS_PER_SECOND = 100;
const execFileAsync = promisify(execFile);

/** A track placed on the recording's time axis (seconds from its start). */
export interface PlacedTrack {
  track: TrackEntry;
  path: string;
  startS: number;
  endS: number;
}

/**
 * Makes the recording's composite MP4 (H.264 + AAC, faststart) from its track files in one ffmpeg
 * run: every audio track mixed at its offset, and over a black canvas the video the timeline says
 * (planShownVideo), scaled with its aspect kept and the unit's name drawn on it. Written under a
 * temp name and renamed when complete. Does not touch the manifest: the caller records the result.
 */
export async function buildComposite(dir: string, manifest: RecordingManifest, options: CompositeOptions): Promise<CompositeEntry> {
  const durationS = recordingDurationMs(manifest) / 1000;
  if (durationS <= 0) throw new Error('the recording has no duration to composite');
  const tracks = await placeTracks(dir, manifest, durationS);
  const shown = planShownVideo(manifest, tracks, durationS);
  const fontFile = options.fontFile === undefined ? await findChineseFont() : options.fontFile;
  const textDir = await mkdtemp(join(tmpdir(), 'cityconf-composite-'));
  const partial = join(dir, `.${COMPOSITE_FILE}.partial`);
  try {
    const graph = await compositeGraph(tracks, shown, durationS, options, fontFile, textDir);
    const args = [
      ...graph.inputs,
      '-filter_complex', graph.filter,
      '-map', '[vout]', '-map', '[aout]',
      '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '26', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-b:a', '128k',
      '-t', durationS.toFixed(3), '-movflags', '+faststart', '-f', 'mp4', '-y', partial,
    ];
    const startedAt = Date.now();
    const ffmpeg = new FfmpegProcess(`composite ${manifest.recordingId}`, args, options.logger, { ffmpegPath: options.ffmpegPath });
    const cpu = sampleCpu(ffmpeg.pid, options.niceness ?? DEFAULT_NICENESS);
    const exit = await ffmpeg.exited;
    const cpuSeconds = cpu.stop();
    if (exit.code !== 0) throw new Error(exit.error?.message ?? `composite ffmpeg failed (code ${exit.code}, signal ${exit.signal})`);
    await rename(partial, join(dir, COMPOSITE_FILE));
    return { file: COMPOSITE_FILE, cpuSeconds, elapsedSeconds: (Date.now() - startedAt) / 1000 };
  } finally {
    await rm(textDir, { recursive: true, force: true });
    await rm(partial, { force: true });
  }
}

/**
 * What the composite shows when: the broadcast venue if one is set, else the active speaker; a
 * screen share of theirs before their camera. When they have no video then, the picture stays on
 * the track shown last while it lasts, else black.
 */
export function planShownVideo(manifest: RecordingManifest, tracks: PlacedTrack[], durationS: number): ShownVideo[] {
  const videos = tracks.filter(({ track }) => track.kind === 'video');
  const cuts = new Set([0, durationS, ...manifest.timeline.map((entry) => entry.offsetMs / 1000), ...videos.flatMap((v) => [v.startS, v.endS])]);
  const times = [...cuts].filter((time) => time >= 0 && time <= durationS).sort((a, b) => a - b);
  const shown: ShownVideo[] = [];
  let last: PlacedTrack | undefined;
  for (let i = 0; i + 1 < times.length; i++) {
    const [fromS, toS] = [times[i]!, times[i + 1]!];
    const playing = videos.filter((video) => video.startS <= fromS && video.endS >= toS);
    const focus = focusAt(manifest, fromS);
    const theirs = playing
      .filter(({ track }) => track.participantId === focus)
      .sort((a, b) => Number(b.track.source === 'screen') - Number(a.track.source === 'screen') || b.startS - a.startS);
    last = theirs[0] ?? (last && playing.includes(last) ? last : undefined);
    const trackId = last?.track.id ?? null;
    const previous = shown.at(-1);
    if (previous && previous.trackId === trackId) previous.toS = toS;
    else shown.push({ trackId, fromS, toS });
  }
  return shown;
}

/** Who the timeline puts on screen at `timeS`: the broadcast venue, else the speaker. */
function focusAt(manifest: RecordingManifest, timeS: number): string | null {
  const latest = (kind: 'speaker' | 'broadcast') =>
    manifest.timeline.filter((entry) => entry.kind === kind && entry.offsetMs / 1000 <= timeS).at(-1)?.participantId ?? null;
  return latest('broadcast') ?? latest('speaker');
}

/** The tracks with a non-empty file and a known end, on the recording's time axis. */
async function placeTracks(dir: string, manifest: RecordingManifest, durationS: number): Promise<PlacedTrack[]> {
  const origin = Date.parse(manifest.startedAt);
  const placed: PlacedTrack[] = [];
  for (const track of manifest.tracks) {
    const path = join(dir, track.file);
    const size = await stat(path).then((stats) => stats.size, () => 0);
    if (size === 0) continue;
    const startS = Math.max(0, (Date.parse(track.startedAt) - origin) / 1000);
    const endS = track.endedAt ? Math.min(durationS, (Date.parse(track.endedAt) - origin) / 1000) : durationS;
    if (endS > startS) placed.push({ track, path, startS, endS });
  }
  return placed;
}

async function compositeGraph(
  tracks: PlacedTrack[],
  shown: ShownVideo[],
  durationS: number,
  options: CompositeOptions,
  fontFile: string | null,
  textDir: string,
): Promise<{ inputs: string[]; filter: string }> {
  const [width, height, fps] = [options.width ?? 1280, options.height ?? 720, options.fps ?? 25];
  const inputs: string[] = [];
  const filters = [`color=c=black:s=${width}x${height}:r=${fps}:d=${durationS.toFixed(3)}[base]`];
  const mixed: string[] = [];
  let canvas = 'base';
  let inputCount = 0;
  for (const { track, path, startS } of tracks) {
    const windows = shown.filter((stretch) => stretch.trackId === track.id);
    if (track.kind === 'video' && windows.length === 0) continue;
    const index = inputCount++;
    if (track.kind === 'audio') {
      inputs.push('-i', path);
      const delayMs = Math.round(startS * 1000);
      filters.push(`[${index}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,adelay=delays=${delayMs}:all=1[a${index}]`);
      mixed.push(`[a${index}]`);
      continue;
    }
    // Offset at the demuxer, so ffmpeg reads each file when the composite reaches it.
    inputs.push('-reinit_filter', '0', '-itsoffset', startS.toFixed(3), '-i', path);
    const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:(ow-iw)/2:(oh-ih)/2,setsar=1`;
    const label = fontFile ? `,${await nameLabel(track, fontFile, textDir, height)}` : '';
    const enable = windows.map(({ fromS, toS }) => `between(t,${fromS.toFixed(3)},${toS.toFixed(3)})`).join('+');
    filters.push(`[${index}:v]${fit}${label}[v${index}]`, `[${canvas}][v${index}]overlay=eof_action=pass:enable='${enable}'[c${index}]`);
    canvas = `c${index}`;
  }
  filters.push(`[${canvas}]format=yuv420p[vout]`);
  filters.push(`anullsrc=r=48000:cl=stereo,atrim=duration=${durationS.toFixed(3)}[silence]`);
  filters.push(`[silence]${mixed.join('')}amix=inputs=${mixed.length + 1}:duration=first:normalize=0[aout]`);
  return { inputs, filter: filters.join(';') };
}

/** drawtext for the unit's name, bottom left; read from a file so that no name needs escaping. */
async function nameLabel(track: TrackEntry, fontFile: string, textDir: string, height: number): Promise<string> {
  const textFile = join(textDir, `${track.id}.txt`);
  await writeFile(textFile, track.name);
  const size = Math.round(height / 24);
  return [
    `drawtext=fontfile='${fontFile}':textfile='${textFile}':expansion=none:fontsize=${size}:fontcolor=white`,
    `box=1:boxcolor=black@0.55:boxborderw=${Math.round(size / 3)}:x=${size}:y=h-th-${size}`,
  ].join(':');
}

/** WenQuanYi Micro Hei if installed, else the first font fontconfig has for Chinese, else null. */
async function findChineseFont(): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync('fc-list', [':lang=zh', '-f', '%{file}\\n']);
    const files = stdout.split('\n').filter((file) => file && !/[':\\]/.test(file));
    return files.find((file) => /wqy-microhei/i.test(file)) ?? files[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Samples the child's CPU time (user + system, all its threads) from /proc while it runs, after
 * lowering its priority; stop() returns the last sample, at most CPU_SAMPLE_MS old.
 */
function sampleCpu(pid: number | undefined, niceness: number): { stop(): number } {
  let seconds = 0;
  if (pid === undefined) return { stop: () => seconds };
  try {
    setPriority(pid, niceness);
  } catch {
    // it has exited already
  }
  const read = () =>
    readFile(`/proc/${pid}/stat`, 'utf8').then((stat) => {
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from the 3rd on
      seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    }, () => undefined);
  const timer = setInterval(() => void read(), CPU_SAMPLE_MS);
  void read();
  return {
    stop() {
      clearInterval(timer);
      return seconds;
    },
  };
}
