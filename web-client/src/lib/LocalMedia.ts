// The local camera and microphone tracks. They outlive any one connection, so that a rejoin after
// a network failure publishes the same tracks without asking for devices again. A disabled source
// keeps its track but with `enabled = false` (black video, silent audio).

export type LocalSource = 'camera' | 'microphone';

const CONSTRAINTS: Record<LocalSource, MediaStreamConstraints> = {
  camera: { video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } } },
  microphone: { audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } },
};

export class LocalMedia {
  private readonly tracks = new Map<LocalSource, MediaStreamTrack>();

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
      this.adopt(await getUserMedia(missing));
      return { failed: [] };
    } catch (combinedError) {
      if (missing.length === 1) return { failed: missing, error: combinedError };
    }
    // One device may be missing or refused: try each source on its own.
    const failed: LocalSource[] = [];
    let error: unknown;
    for (const source of missing) {
      try {
        this.adopt(await getUserMedia([source]));
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

  stop(): void {
    for (const track of this.tracks.values()) track.stop();
    this.tracks.clear();
  }

  private adopt(stream: MediaStream): void {
    for (const track of stream.getTracks()) {
      this.tracks.set(track.kind === 'video' ? 'camera' : 'microphone', track);
    }
  }
}

function getUserMedia(sources: LocalSource[]): Promise<MediaStream> {
  if (!navigator.mediaDevices) return Promise.reject(new Error('media devices need a secure context (https)'));
  const constraints = Object.assign({}, ...sources.map((source) => CONSTRAINTS[source])) as MediaStreamConstraints;
  return navigator.mediaDevices.getUserMedia(constraints);
}
