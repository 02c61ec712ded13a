import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from 'pino';
import type { NegotiatedMedia } from '../sdp/index.js';
import type { ConsumerTap } from './ConsumerTap.js';
import { h264EncoderArgs } from './h264Encoding.js';
import { LoopbackFfmpeg } from './LoopbackFfmpeg.js';
import { isRtcp, RtpRewriter, ssrcOf, startsKeyFrame, type VideoCodecFamily } from './rtp.js';
import type { VideoSink } from './VideoSink.js';

export interface VideoSwitchOptions {
  /** Names the switch's ffmpeg jobs. */
  jobId: string;
  /** The H.264 the watching peers negotiated (profile, level, packetization mode, bit rate). */
  video: NegotiatedMedia;
  tap: ConsumerTap;
  size: { width: number; height: number };
  logger: Logger;
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
  /** An encoder ended on its own and could not be started again. */
  onFailure: (reason: Error) => void;
}

type EncoderId = VideoCodecFamily | 'black';

interface Encoder {
  id: EncoderId;
  ssrc: number;
  ffmpeg: LoopbackFfmpeg;
  /** Source consumers' packets become one stream into ffmpeg (not for black). */
  input?: { rewriter: RtpRewriter; current?: ms.Consumer; pending?: ms.Consumer };
}

/** Payload types of the streams into the encoders (the relay rewrites the consumers' to these). */
const INPUT_CODECS: Record<VideoCodecFamily, ms.RtpCodecParameters> = {
  VP8: { mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 },
  H264: { mimeType: 'video/H264', payloadType: 97, clockRate: 90000, parameters: { 'packetization-mode': 1 } },
};
/** Frames per second of the black picture shown without a source; a key frame every second. */
const BLACK_FPS = 10;
/** A new source is asked for a key frame this often until one arrives (ms). */
const KEY_FRAME_RETRY_MS = 1000;
const LOOPBACK = '127.0.0.1';

/**
 * One picture encoded for any number of SIP peers (VideoSinks) that negotiated the same H.264: made
 * by long-lived libx264 encoders, one per input codec (VP8, H.264) started on first use, plus a
 * black picture; each sink turns the output into its peer's own stream. Switching between two sources of one codec happens in front of its encoder: the
 * new source's packets replace the old one's, rewritten into the encoder's one input stream, from
 * the new source's first key frame on (the old one shows until then); the decoded key frame makes
 * the encoder send one too (`-force_key_frames source`). Switching between codecs or to black
 * happens behind the encoders: the other encoder's output replaces this one's from its first key
 * frame on. No ffmpeg restarts on a switch, and the picture never stops.
 */
export class VideoSwitch {
  private readonly encoders = new Map<EncoderId, Encoder>();
  private readonly starting = new Map<EncoderId, Promise<Encoder>>();
  private readonly sinks = new Set<VideoSink>();
  private current: EncoderId = 'black';
  private pending?: EncoderId;
  private generation = 0;
  private closed = false;
  private keyFrameTimer?: NodeJS.Timeout;
  /** What show() was last asked for: a producer id, or 'black'. */
  private shownId = 'black';
  /** Told when the last sink leaves (the pool may close or reuse the switch). */
  onIdle?: () => void;

  private constructor(
    private readonly options: VideoSwitchOptions,
    private readonly output: Socket,
  ) {
    output.on('message', (packet) => this.onEncoderPacket(packet));
  }

  static async start(options: VideoSwitchOptions): Promise<VideoSwitch> {
    const output = createSocket('udp4');
    await new Promise<void>((resolve) => output.bind(0, LOOPBACK, resolve));
    const videoSwitch = new VideoSwitch(options, output);
    try {
      await videoSwitch.encoder('black');
    } catch (error) {
      await videoSwitch.close();
      throw error;
    }
    return videoSwitch;
  }

  /** The source shown now (once its key frame arrived), or null for black. */
  get source(): ms.Consumer | null {
    return this.current === 'black' ? null : (this.encoders.get(this.current)?.input?.current ?? null);
  }

  /** The producer id this switch was last asked to show, or 'black'. */
  get showing(): string {
    return this.shownId;
  }

  get sinkCount(): number {
    return this.sinks.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** A sink watches this switch from now on (it decides when it starts using the output). */
  attach(sink: VideoSink): void {
    this.sinks.add(sink);
  }

  detach(sink: VideoSink): void {
    if (this.sinks.delete(sink) && this.sinks.size === 0) this.onIdle?.();
  }

  /** The sinks watching or moving to this switch: told when it fails. */
  watchers(): VideoSink[] {
    return [...this.sinks];
  }

  /** Shows `producer` from its next key frame on, or black (null). */
  async show(producer: ms.Producer | null): Promise<void> {
    this.shownId = producer?.id ?? 'black';
    const generation = ++this.generation;
    if (!producer) {
      this.target('black');
      return;
    }
    const family = codecFamily(producer);
    const encoder = await this.encoder(family);
    if (generation !== this.generation || this.closed) return;
    const { input } = encoder;
    if (input!.current?.producerId === producer.id && this.current === family) {
      this.target(family);
      return;
    }
    // Already switching to it (waiting for its key frame): asking again would start over.
    if (input!.pending?.producerId === producer.id && !input!.pending.closed) return;
    let consumer: ms.Consumer | undefined;
    consumer = await this.options.tap.consume(producer, (packet) => consumer && this.onSourcePacket(encoder, consumer, packet));
    if (generation !== this.generation || this.closed) {
      consumer.close();
      return;
    }
    input!.pending?.close();
    input!.pending = consumer;
    this.options.logger.info({ producerId: producer.id }, 'video source requested');
    this.target(family);
    this.askKeyFrame(consumer);
  }

  /** A peer wants a key frame: the source's next one makes the encoder send one (black sends one every second). */
  requestKeyFrame(): void {
    const source = this.source;
    if (source && !source.closed) source.requestKeyFrame().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.keyFrameTimer);
    await Promise.allSettled(this.starting.values());
    for (const encoder of this.encoders.values()) {
      encoder.input?.current?.close();
      encoder.input?.pending?.close();
    }
    await Promise.all([...this.encoders.values()].map(({ ffmpeg }) => ffmpeg.stop()));
    this.output.close();
  }

  private target(id: EncoderId): void {
    this.pending = id === this.current ? undefined : id;
    this.prune();
  }

  /**
   * Closes consumers no longer wanted: an encoder neither shown nor switched to keeps no source;
   * the shown one keeps its next source only while no other encoder is switched to.
   */
  private prune(): void {
    for (const { id, input } of this.encoders.values()) {
      if (!input) continue;
      const keepsCurrent = id === this.current || id === this.pending;
      const keepsPending = id === this.pending || (id === this.current && this.pending === undefined);
      if (!keepsCurrent) {
        input.current?.close();
        input.current = undefined;
      }
      if (!keepsPending) {
        input.pending?.close();
        input.pending = undefined;
      }
    }
  }

  private onSourcePacket(encoder: Encoder, consumer: ms.Consumer, packet: Buffer): void {
    const input = encoder.input!;
    if (consumer === input.pending && startsKeyFrame(encoder.id as VideoCodecFamily, packet)) {
      input.current?.close();
      input.current = consumer;
      input.pending = undefined;
      this.options.logger.info({ producerId: consumer.producerId, encoder: encoder.id}, 'video source switched');
    }
    if (consumer !== input.current) return;
    this.sendTo(encoder, input.rewriter.rewrite(packet, ssrcOf(packet)));
  }

  private sendTo(encoder: Encoder, packet: Buffer): void {
    if (!this.closed) this.output.send(packet, encoder.ffmpeg.inputPorts[0]!, LOOPBACK);
  }

  private onEncoderPacket(packet: Buffer): void {
    if (packet.length < 12) return;
    const rtcp = isRtcp(packet);
    const ssrc = rtcp ? packet.readUInt32BE(4) : ssrcOf(packet);
    const encoder = [...this.encoders.values()].find((candidate) => candidate.ssrc === ssrc);
    if (!encoder || this.closed) return;
    if (rtcp) {
      if (encoder.id === this.current) for (const sink of this.sinks) sink.deliverReport(this, packet);
      return;
    }
    const keyFrame = startsKeyFrame('H264', packet);
    if (encoder.id === this.pending && keyFrame) {
      this.current = encoder.id;
      this.pending = undefined;
      this.prune();
      this.options.logger.info({ encoder: encoder.id }, 'video encoder switched');
    }
    // A sink taking this output leaves its previous switch, never this one: no copy of the set per packet.
    if (encoder.id === this.current) for (const sink of this.sinks) sink.deliver(this, packet, ssrc, keyFrame);
  }

  /** Asks a new source for key frames until one came or it is no longer wanted. */
  private askKeyFrame(consumer: ms.Consumer): void {
    clearTimeout(this.keyFrameTimer);
    const ask = (): void => {
      const waiting = [...this.encoders.values()].some((encoder) => encoder.input?.pending === consumer);
      if (!waiting || consumer.closed || this.closed) return;
      consumer.requestKeyFrame().catch(() => undefined);
      this.keyFrameTimer = setTimeout(ask, KEY_FRAME_RETRY_MS);
    };
    ask();
  }

  private encoder(id: EncoderId): Promise<Encoder> {
    const running = this.encoders.get(id);
    if (running) return Promise.resolve(running);
    let starting = this.starting.get(id);
    if (!starting) {
      starting = this.startEncoder(id).finally(() => this.starting.delete(id));
      this.starting.set(id, starting);
    }
    return starting;
  }

  private async startEncoder(id: EncoderId): Promise<Encoder> {
    const { jobId, video, size, logger, bridgePorts, ffmpegPath } = this.options;
    const ssrc = randomInt(1, 2 ** 31);
    const { width, height } = size;
    const destination = `rtp://${LOOPBACK}:${this.output.address().port}?rtcpport=${this.output.address().port}&pkt_size=1200`;
    const output = ['-payload_type', String(video.payloadType), '-ssrc', String(ssrc), '-f', 'rtp', destination];
    const fit = `scale=${width}:${height}:force_original_aspect_ratio=decrease,pad=${width}:${height}:-1:-1,setsar=1`;
    const ffmpeg = await LoopbackFfmpeg.start({
      jobId: `${jobId}-${id}`,
      inputs: id === 'black' ? [] : [{ kind: 'video', rtpParameters: { codecs: [INPUT_CODECS[id]] } }],
      args: (sdp) =>
        sdp
          ? ['-i', sdp, '-map', '0:v:0', '-vf', fit, '-fps_mode', 'passthrough', ...h264EncoderArgs(video, ['-force_key_frames', 'source']), ...output]
          : [
              '-re', '-f', 'lavfi', '-i', `color=c=black:s=${width}x${height}:r=${BLACK_FPS}`,
              ...h264EncoderArgs(video, ['-force_key_frames', 'expr:gte(t,n_forced*1)']), ...output,
            ],
      logger,
      ...(bridgePorts ? { bridgePorts } : {}),
      ...(ffmpegPath ? { ffmpegPath } : {}),
    });
    const encoder: Encoder = { id, ssrc, ffmpeg, ...(id === 'black' ? {} : { input: { rewriter: new RtpRewriter(ssrc, 90000, INPUT_CODECS[id].payloadType) } }) };
    if (this.closed) {
      await ffmpeg.stop();
      throw new Error('the video switch closed');
    }
    this.encoders.set(id, encoder);
    void ffmpeg.exited.then((exit) => {
      if (this.closed || this.encoders.get(id) !== encoder) return;
      this.options.onFailure(new Error(`the ${id} video encoder exited (code ${exit.code}, signal ${exit.signal})`));
    });
    return encoder;
  }
}

function codecFamily(producer: ms.Producer): VideoCodecFamily {
  const mimeType = producer.rtpParameters.codecs[0]?.mimeType.toLowerCase();
  if (mimeType === 'video/vp8') return 'VP8';
  if (mimeType === 'video/h264') return 'H264';
  throw new RangeError(`a SIP leg shows VP8 or H.264 video, not ${mimeType ?? 'nothing'} (producer ${producer.id})`);
}
