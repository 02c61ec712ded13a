// The local camera and microphone tracks. They outlive any one connection, so that a rejoin after
// a network failure publishes the same tracks without asking for devices again. A disabled source
// keeps its track but with `enabled = false` (black video, silent audio).

import { classifyMediaError, TimeoutError, withTimeout } from './devices';

export type LocalSource = 'camera' | 'microphone';

const CONSTRAINTS: Record<LocalSource, MediaStreamConstraints> = {
  camera: { video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } } },
  microphone: { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } },
};

/** getUserMedia that never leaves the caller waiting forever (e.g. an unanswered prompt). */
const OPEN_TIMEOUT_MS = 20_000;

export class LocalMedia {
  private readonly tracks = new Map<LocalSource, MediaStreamTrack>();
  /** The chosen device per source; kept across stop() so that a rejoin opens the same ones. */
  private readonly deviceIds = new Map<LocalSource, string>();
  private readonly endedHandlers = new Set<(source: LocalSource) => void>();

  /** Called when an open track ends by itself (its device was unplugged or taken away). */
  onEnded(handler: (source: LocalSource) => void): void {
    this.endedHandlers.add(handler);
  }

  deviceId(source: LocalSource): string | null {
    return this.tracks.get(source)?.getSettings().deviceId ?? this.deviceIds.get(source) ?? null;
  }

  /** Uses `deviceId` the next time `source` is opened. */
  preferDevice(source: LocalSource, deviceId: string | null): void {
    if (deviceId) this.deviceIds.set(source, deviceId);
    else this.deviceIds.delete(source);
  }

  /** Takes over a track opened elsewhere (the lobby preview); stop() will stop it. */
  adoptTrack(source: LocalSource, track: MediaStreamTrack): void {
    if (track.readyState !== 'live' || this.tracks.has(source)) return;
    this.register(source, track);
  }

  /**
   * Opens `deviceId` for `source` in place of the current track, with the same enabled state.
   * Returns the new track and the old one, which the caller stops once nothing sends it.
   */
  async openDevice(source: LocalSource, deviceId: string): Promise<{ track: MediaStreamTrack; previous: MediaStreamTrack | null }> {
    const stream = await getUserMedia([source], new Map([[source, deviceId]]));
    const track = stream.getTracks()[0]!;
    const previous = this.tracks.get(source) ?? null;
    track.enabled = previous?.enabled ?? true;
    this.deviceIds.set(source, deviceId);
    this.register(source, track);
    return { track, previous };
  }

  /** Stops and forgets the track of `source` (e.g. its device is gone and none is left). */
  drop(source: LocalSource): void {
    this.tracks.get(source)?.stop();
    this.tracks.delete(source);
  }

  track(source: LocalSource): MediaStreamTrack | null {
    return this.tracks.get(source) ?? null;
  }

  isEnabled(source: LocalSource): boolean {
    return this.tracks.get(source)?.enabled ?? false;
  }

  /**
   * Opens the wanted sources that are not open yet, with one permission prompt when possible.
   * Returns the sources that could not be opened, with the error of the last failure.
   */
  async open(sources: LocalSource[]): Promise<{ failed: LocalSource[]; error?: unknown }> {
    const missing = sources.filter((source) => !this.tracks.has(source));
    if (missing.length === 0) return { failed: [] };
    try {
      this.adopt(await getUserMedia(missing, this.deviceIds));
      return { failed: [] };
    } catch (combinedError) {
      if (missing.length === 1 && classifyMediaError(combinedError) !== 'notFound') return { failed: missing, error: combinedError };
    }
    // One device may be missing or refused: try each source on its own.
    const failed: LocalSource[] = [];
    let error: unknown;
    for (const source of missing) {
      try {
        this.adopt(await getUserMedia([source], this.deviceIds).catch((chosenError: unknown) => {
          // The chosen device may have been unplugged since: any other one will do.
          if (!this.deviceIds.has(source) || classifyMediaError(chosenError) !== 'notFound') throw chosenError;
          return getUserMedia([source]);
        }));
      } catch (sourceError) {
        failed.push(source);
        error = sourceError;
      }
    }
    return { failed, error };
  }

  setEnabled(source: LocalSource, enabled: boolean): void {
    const track = this.tracks.get(source);
    if (track) track.enabled = enabled;
  }

  /** Gives up the open tracks without stopping them: whoever takes them stops them. */
  release(): MediaStreamTrack[] {
    const tracks = [...this.tracks.values()];
    this.tracks.clear();
    return tracks;
  }

  stop(): void {
    for (const track of this.tracks.values()) track.stop();
    this.tracks.clear();
  }

  private adopt(stream: MediaStream): void {
    for (const track of stream.getTracks()) this.register(track.kind === 'video' ? 'camera' : 'microphone', track);
  }

  private register(source: LocalSource, track: MediaStreamTrack): void {
    this.tracks.set(source, track);
    track.addEventListener('ended', () => {
      if (this.tracks.get(source) !== track) return;
      for (const handler of this.endedHandlers) handler(source);
    });
  }
}

/**
 * The constraints for `sources`, on the given devices where one is chosen. The lobby preview
 * uses the same ones, so that the track it hands over is the one the meeting would open.
 */
export function mediaConstraints(sources: LocalSource[], deviceIds: ReadonlyMap<LocalSource, string> = new Map()): MediaStreamConstraints {
  const constraints: MediaStreamConstraints = {};
  for (const source of sources) {
    const kind = source === 'camera' ? 'video' : 'audio';
    const base = CONSTRAINTS[source][kind] as MediaTrackConstraints;
    const deviceId = deviceIds.get(source);
    constraints[kind] = deviceId ? { ...base, deviceId: { exact: deviceId } } : base;
  }
  return constraints;
}

export function getUserMedia(sources: LocalSource[], deviceIds?: ReadonlyMap<LocalSource, string>): Promise<MediaStream> {
  if (!navigator.mediaDevices) return Promise.reject(new Error('media devices need a secure context (https)'));
  const request = navigator.mediaDevices.getUserMedia(mediaConstraints(sources, deviceIds));
  // A stream that arrives after the timeout is released, not leaked.
  return withTimeout(request, OPEN_TIMEOUT_MS, 'opening the camera or microphone').catch((error: unknown) => {
    if (error instanceof TimeoutError) void request.then((late) => late.getTracks().forEach((track) => track.stop()), () => undefined);
    throw error;
  });
}
