import type { ListenIp, mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from 'pino';
import type { NegotiatedMedia } from '../sdp/index.js';
import { ConsumerTap, type PipeProducer } from './ConsumerTap.js';
import type { VideoSink } from './VideoSink.js';
import { VideoSwitch } from './VideoSwitch.js';

export interface VideoSwitchPoolOptions {
  /** Names the pool's ffmpeg jobs and its plain transport. */
  jobId: string;
  /** Where the sources are consumed (`pipeProducer` brings other routers' producers here). */
  router: ms.Router;
  listenIp: ListenIp;
  pipeProducer?: PipeProducer;
  /** The picture sent (e.g. 1280x720). */
  size: { width: number; height: number };
  logger: Logger;
  /** How long a switch nobody watches is kept for the next switch of picture (ms, default 20 s). */
  idleMs?: number;
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
}

const DEFAULT_IDLE_MS = 20_000;

interface PooledSwitch {
  videoSwitch: VideoSwitch;
  key: string;
  idleTimer?: NodeJS.Timeout;
}

/**
 * The video encoders of a meeting's SIP legs, shared: peers that negotiated the same H.264 (profile,
 * packetization mode, bit rate) and watch the same picture get one encoder's output, each in its own
 * stream (VideoSink). In a typical meeting every site watches the active speaker, the speaking site
 * the previous one: two encoders however many sites. A leg alone on its switch switches it in place
 * (no new encoder, no restart); a leg that wants a picture another switch already shows moves there
 * at that switch's next key frame; otherwise an idle switch is reused or a new one started.
 */
export class VideoSwitchPool {
  private readonly switches = new Set<PooledSwitch>();
  private tap?: Promise<ConsumerTap>;
  private closed = false;
  private started = 0;

  constructor(private readonly options: VideoSwitchPoolOptions) {}

  /** Encoders running now (each switch runs one per input codec in use, plus black). */
  get switchCount(): number {
    return this.switches.size;
  }

  /** Switches that run an encoder for a source (not only black): what the CPU goes to. */
  get busySwitchCount(): number {
    return [...this.switches].filter(({ videoSwitch }) => videoSwitch.showing !== 'black' && videoSwitch.sinkCount > 0).length;
  }

  /** Each switch: the producer it shows ('black' for none) and the peers watching or moving to it. */
  describe(): { showing: string; sinks: number }[] {
    return [...this.switches].map(({ videoSwitch }) => ({ showing: videoSwitch.showing, sinks: videoSwitch.sinkCount }));
  }

  /** The sink's peer sees `producer` (or black) from a key frame on. */
  async show(sink: VideoSink, video: NegotiatedMedia, producer: ms.Producer | null): Promise<void> {
    if (this.closed) throw new Error('the video switch pool is closed');
    const wanted = producer?.id ?? 'black';
    const generation = ++sink.generation;
    const key = encodingKey(video);
    const { current, pending } = sink;
    if (pending && pending.showing === wanted) return; // already on its way there
    if (current && current.showing === wanted) {
      this.cancelMove(sink);
      return;
    }
    let target = this.find((entry) => entry.key === key && entry.videoSwitch.showing === wanted);
    if (!target && current && current.sinkCount === 1 && !pending) {
      // Alone on its switch: the switch changes picture in place.
      await current.show(producer);
      return;
    }
    target ??= this.find((entry) => entry.key === key && entry.videoSwitch.sinkCount === 0);
    if (!target) target = await this.start(key, video);
    if (generation !== sink.generation || this.closed) return;
    this.keep(target);
    if (target.videoSwitch.showing !== wanted) await target.videoSwitch.show(producer);
    if (generation !== sink.generation || this.closed) return;
    this.cancelMove(sink);
    if (!sink.current) {
      sink.current = target.videoSwitch; // nothing shown yet: no key frame to wait for
    } else {
      sink.pending = target.videoSwitch;
      target.videoSwitch.requestKeyFrame();
    }
    target.videoSwitch.attach(sink);
  }

  /** The sink's peer asked for a key frame. */
  requestKeyFrame(sink: VideoSink): void {
    (sink.pending ?? sink.current)?.requestKeyFrame();
  }

  /** The sink watches nothing any more. */
  release(sink: VideoSink): void {
    sink.release();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [...this.switches];
    this.switches.clear();
    for (const entry of all) clearTimeout(entry.idleTimer);
    await Promise.all(all.map(({ videoSwitch }) => videoSwitch.close()));
    const tap = await this.tap?.catch(() => undefined);
    tap?.close();
  }

  private cancelMove(sink: VideoSink): void {
    sink.pending?.detach(sink);
    sink.pending = undefined;
  }

  private find(test: (entry: PooledSwitch) => boolean): PooledSwitch | undefined {
    for (const entry of this.switches) if (!entry.videoSwitch.isClosed && test(entry)) return entry;
    return undefined;
  }

  private async start(key: string, video: NegotiatedMedia): Promise<PooledSwitch> {
    const { logger, size, bridgePorts, ffmpegPath, jobId } = this.options;
    this.tap ??= ConsumerTap.open(this.options.router, this.options.listenIp, { jobId, type: 'sip-video' }, this.options.pipeProducer);
    const tap = await this.tap;
    let entry: PooledSwitch | undefined;
    const videoSwitch = await VideoSwitch.start({
      jobId: `${jobId}-video${++this.started}`,
      video,
      tap,
      size,
      logger,
      ...(bridgePorts ? { bridgePorts } : {}),
      ...(ffmpegPath ? { ffmpegPath } : {}),
      onFailure: (reason) => {
        if (entry) this.drop(entry);
        for (const sink of videoSwitch.watchers()) sink.onFailure(reason);
      },
    });
    entry = { videoSwitch, key };
    videoSwitch.onIdle = () => this.idle(entry!);
    if (this.closed) {
      await videoSwitch.close();
      throw new Error('the video switch pool is closed');
    }
    this.switches.add(entry);
    logger.info({ switches: this.switches.size, key }, 'video encoder started for SIP peers');
    return entry;
  }

  /** Nobody watches it: kept a while for the next change of picture, then closed. */
  private idle(entry: PooledSwitch): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => this.drop(entry), this.options.idleMs ?? DEFAULT_IDLE_MS);
    entry.idleTimer.unref();
  }

  private keep(entry: PooledSwitch): void {
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
  }

  private drop(entry: PooledSwitch): void {
    clearTimeout(entry.idleTimer);
    if (!this.switches.delete(entry)) return;
    void entry.videoSwitch.close();
  }
}

/** What makes two peers' video the same bytes: the H.264 they take and the bit rate. */
function encodingKey(video: NegotiatedMedia): string {
  const { parameters } = video.codec;
  return [parameters['profile-level-id'] ?? '', parameters['packetization-mode'] ?? '0', video.bandwidthKbps ?? ''].join('|');
}
