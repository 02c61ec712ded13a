import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { mediasoupTypes as ms } from '@cityconf/sfu';
import type { Logger } from 'pino';
import type { NegotiatedMedia } from '../sdp/index.js';
import type { ConsumerTap } from './ConsumerTap.js';
import { LoopbackFfmpeg } from './LoopbackFfmpeg.js';
import type { MediaPorts } from './MediaPorts.js';
import { isRtcp, RtpRewriter, ssrcOf } from './rtp.js';

export interface AudioMixerOptions {
  legId: string;
  audio: NegotiatedMedia;
  ports: MediaPorts;
  tap: ConsumerTap;
  /** Mixer inputs: the most sources heard at once (default 4, the meeting's audible set). */
  inputs: number;
  logger: Logger;
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
  onFailure: (reason: Error) => void;
}

interface Slot {
  rewriter: RtpRewriter;
  consumer?: ms.Consumer;
  /** The input holds audio up to here (ms, Date.now() scale): silence fills what is missing. */
  filledUntil: number;
}

const OPUS: ms.RtpCodecParameters = { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 };
/** A 20 ms Opus frame of silence (CELT, TOC 0xf8). */
const OPUS_SILENCE = Buffer.from([0xf8, 0xff, 0xfe]);
const FRAME_MS = 20;
/**
 * An input without audio this long gets silence up to now (ms): an input that stalls stalls the mix.
 * Longer than the jitter of a live source, whose late packets would otherwise come on top of the
 * silence and put its input ahead of the others (which amix turns into delay).
 */
const FILL_AFTER_MS = 100;
const LOOPBACK = '127.0.0.1';

/** How ffmpeg encodes each negotiated codec; the RTP packet size makes G.711 and G.722 packets 20 ms. */
export const ENCODERS: Record<string, { args: string[]; packetBytes: number }> = {
  pcma: { args: ['-c:a', 'pcm_alaw', '-ar', '8000', '-ac', '1'], packetBytes: 12 + 160 },
  pcmu: { args: ['-c:a', 'pcm_mulaw', '-ar', '8000', '-ac', '1'], packetBytes: 12 + 160 },
  g722: { args: ['-c:a', 'g722', '-ar', '16000', '-ac', '1'], packetBytes: 12 + 160 },
  opus: { args: ['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-frame_duration', '20', '-application', 'voip'], packetBytes: 1200 },
};

/**
 * Mix-minus for the peer: up to `inputs` microphones (the caller leaves out the peer's own) mixed
 * by one long-lived ffmpeg (amix over a fixed number of inputs) and encoded in the negotiated codec
 * at 20 ms packets. Each input is a Node relay that rewrites whichever consumer fills it into one
 * continuous Opus stream and fills silence where there is none, so changing the set of sources
 * restarts nothing and leaves no gap.
 */
export class AudioMixer {
  readonly ssrc = randomInt(1, 2 ** 31);
  private readonly rewriter: RtpRewriter;
  private readonly slots: Slot[];
  private readonly ticker: NodeJS.Timeout;
  private closed = false;

  private constructor(
    private readonly options: AudioMixerOptions,
    private readonly socket: Socket,
    private readonly ffmpeg: LoopbackFfmpeg,
    private readonly ffmpegSsrc: number,
  ) {
    this.rewriter = new RtpRewriter(this.ssrc, options.audio.codec.clockRate, options.audio.payloadType);
    const now = Date.now();
    this.slots = ffmpeg.inputPorts.map(() => ({ rewriter: new RtpRewriter(randomInt(1, 2 ** 31), 48000, OPUS.payloadType), filledUntil: now - FRAME_MS }));
    socket.on('message', (packet) => this.onMixed(packet));
    this.ticker = setInterval(() => this.fillSilence(), FRAME_MS / 2);
    this.fillSilence();
    void ffmpeg.exited.then((exit) => {
      if (!this.closed) options.onFailure(new Error(`the audio mixer exited (code ${exit.code}, signal ${exit.signal})`));
    });
  }

  static async start(options: AudioMixerOptions): Promise<AudioMixer> {
    const encoder = ENCODERS[options.audio.codec.name.toLowerCase()];
    if (!encoder) throw new RangeError(`no audio encoder for ${options.audio.codec.name}`);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    const ssrc = randomInt(1, 2 ** 31);
    const port = socket.address().port;
    const labels = Array.from({ length: options.inputs }, (_, index) => `[0:a:${index}]`).join('');
    try {
      const ffmpeg = await LoopbackFfmpeg.start({
        jobId: `${options.legId}-audio`,
        inputs: Array.from({ length: options.inputs }, () => ({ kind: 'audio' as const, rtpParameters: { codecs: [OPUS] } })),
        args: (sdp) => [
          '-i', sdp!,
          '-filter_complex', `${labels}amix=inputs=${options.inputs}:normalize=0:dropout_transition=0[mix]`,
          '-map', '[mix]', ...encoder.args,
          '-payload_type', String(options.audio.payloadType), '-ssrc', String(ssrc),
          '-f', 'rtp', `rtp://${LOOPBACK}:${port}?rtcpport=${port}&pkt_size=${encoder.packetBytes}`,
        ],
        logger: options.logger,
        ...(options.bridgePorts ? { bridgePorts: options.bridgePorts } : {}),
        ...(options.ffmpegPath ? { ffmpegPath: options.ffmpegPath } : {}),
      });
      return new AudioMixer(options, socket, ffmpeg, ssrc);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  /** The producers mixed now. */
  get sources(): string[] {
    return this.slots.flatMap((slot) => (slot.consumer ? [slot.consumer.producerId] : []));
  }

  /** Mixes these producers (the first `inputs` of them) from now on. */
  async mix(producers: ms.Producer[]): Promise<void> {
    const wanted = producers.slice(0, this.slots.length);
    if (producers.length > wanted.length) this.options.logger.warn({ dropped: producers.length - wanted.length }, 'more audio sources than mixer inputs');
    const wantedIds = new Set(wanted.map((producer) => producer.id));
    for (const slot of this.slots) {
      if (slot.consumer && !wantedIds.has(slot.consumer.producerId)) {
        slot.consumer.close();
        slot.consumer = undefined;
      }
    }
    for (const producer of wanted) {
      if (this.slots.some((slot) => slot.consumer?.producerId === producer.id)) continue;
      const slot = this.slots.find((candidate) => !candidate.consumer);
      if (!slot || this.closed) return;
      const slotIndex = this.slots.indexOf(slot);
      const consumer = await this.options.tap.consume(producer, (packet) => this.onSource(slotIndex, packet));
      if (this.closed || slot.consumer) consumer.close();
      else slot.consumer = consumer;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ticker);
    for (const slot of this.slots) slot.consumer?.close();
    await this.ffmpeg.stop();
    this.socket.close();
  }

  private onSource(slotIndex: number, packet: Buffer): void {
    const slot = this.slots[slotIndex]!;
    if (this.closed || !slot.consumer) return;
    // Sources send 20 ms packets (browsers and ffmpeg do): count the audio, not the arrival time.
    slot.filledUntil = Math.max(slot.filledUntil + FRAME_MS, Date.now() - FILL_AFTER_MS);
    this.socket.send(slot.rewriter.rewrite(packet, ssrcOf(packet)), this.ffmpeg.inputPorts[slotIndex]!, LOOPBACK);
  }

  /**
   * Silence, paced by the clock so inputs keep real time: at once in an input without a source (amix
   * waits for every input, so a lagging empty one would delay the whole mix), and in an input whose
   * source sent nothing for FILL_AFTER_MS (its packets may just be late).
   */
  private fillSilence(): void {
    const now = Date.now();
    this.slots.forEach((slot, index) => {
      if (now - slot.filledUntil < (slot.consumer ? FILL_AFTER_MS : 0)) return;
      while (slot.filledUntil + FRAME_MS <= now) {
        slot.filledUntil += FRAME_MS;
        this.socket.send(slot.rewriter.synthesize(OPUS_SILENCE, 48 * FRAME_MS), this.ffmpeg.inputPorts[index]!, LOOPBACK);
      }
    });
  }

  private onMixed(packet: Buffer): void {
    if (this.closed || packet.length < 12) return;
    if (isRtcp(packet)) {
      const report = packet.readUInt32BE(4) === this.ffmpegSsrc ? this.rewriter.rewriteSenderReport(packet) : undefined;
      if (report) this.options.ports.sendRtcp('audio', report);
      return;
    }
    if (ssrcOf(packet) === this.ffmpegSsrc) this.options.ports.sendRtp('audio', this.rewriter.rewrite(packet, this.ffmpegSsrc));
  }
}
