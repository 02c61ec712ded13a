import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { NegotiatedMedia } from '../sdp/index.js';
import { ENCODERS } from './AudioMixer.js';
import { LoopbackFfmpeg } from './LoopbackFfmpeg.js';
import type { MediaPorts } from './MediaPorts.js';
import { isRtcp, RtpRewriter, ssrcOf } from './rtp.js';

/** The shipped IVR prompts (cascade/assets/prompts, made by scripts/make-prompts.sh). */
export type PromptName = 'enter-meeting-number' | 'enter-pin' | 'joining' | 'meeting-not-started' | 'wrong-meeting-number';

/** The file of a shipped prompt (the same relative path from src/ and from dist/). */
export function promptFile(name: PromptName): string {
  return fileURLToPath(new URL(`../../assets/prompts/${name}.opus`, import.meta.url));
}

/** 'stopped' when stop() cut it short (the caller pressed a key: barge-in). */
export type PromptOutcome = 'played' | 'stopped';

export interface PromptPlayerOptions {
  legId: string;
  /** The call's negotiated audio: the prompt goes out in its codec and payload type. */
  audio: NegotiatedMedia;
  /** The leg's ports: the prompt leaves from our audio port (SRTP-protected when negotiated). */
  ports: MediaPorts;
  logger: Logger;
  ffmpegPath?: string;
}

interface Run {
  ffmpeg: LoopbackFfmpeg;
  /** ffmpeg's SSRC: packets of an earlier run that arrive late are dropped. */
  ssrc: number;
  stopped: boolean;
}

const LOOPBACK = '127.0.0.1';

/**
 * Audio files played to a SIP peer, one at a time: each by an ffmpeg reading the file in real
 * time (-re) and encoding it like the audio mixer does, sending RTP to a Node socket; Node
 * rewrites every run into one stream (our SSRC, continuous sequence numbers and timestamps) and
 * sends it from the leg's audio port.
 */
export class PromptPlayer {
  readonly ssrc = randomInt(1, 2 ** 31);
  private readonly rewriter: RtpRewriter;
  private run?: Run;
  /** Counts stop() calls: a play() that was starting its ffmpeg meanwhile is stopped too. */
  private stops = 0;
  private closed = false;

  private constructor(
    private readonly options: PromptPlayerOptions,
    private readonly socket: Socket,
  ) {
    this.rewriter = new RtpRewriter(this.ssrc, options.audio.codec.clockRate, options.audio.payloadType);
    socket.on('message', (packet) => this.onPacket(packet));
  }

  static async open(options: PromptPlayerOptions): Promise<PromptPlayer> {
    if (!ENCODERS[options.audio.codec.name.toLowerCase()]) throw new RangeError(`no audio encoder for ${options.audio.codec.name}: prompts play in PCMU, PCMA, G722 or opus`);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    return new PromptPlayer(options, socket);
  }

  /** Plays `file` to the peer (stopping one still playing); resolves when it has been played or stopped. */
  async play(file: string): Promise<PromptOutcome> {
    if (this.closed) throw new Error('the prompt player is closed');
    await this.stopRun();
    const stops = this.stops;
    const { audio, legId, logger, ffmpegPath } = this.options;
    const encoder = ENCODERS[audio.codec.name.toLowerCase()]!;
    const ssrc = randomInt(1, 2 ** 31);
    const port = this.socket.address().port;
    const ffmpeg = await LoopbackFfmpeg.start({
      jobId: `${legId}-prompt`,
      inputs: [],
      args: () => [
        '-re', '-i', file, '-vn', '-af', twentyMsFrames(encoder.args), ...encoder.args,
        '-payload_type', String(audio.payloadType), '-ssrc', String(ssrc),
        '-f', 'rtp', `rtp://${LOOPBACK}:${port}?rtcpport=${port}&pkt_size=${encoder.packetBytes}`,
      ],
      logger,
      ...(ffmpegPath ? { ffmpegPath } : {}),
    });
    const run: Run = { ffmpeg, ssrc, stopped: this.stops !== stops || this.closed };
    this.run = run;
    if (run.stopped) {
      await ffmpeg.stop();
      return 'stopped';
    }
    const exit = await ffmpeg.exited;
    await ffmpeg.stop(); // after the exit: only releases what LoopbackFfmpeg holds
    if (run.stopped) return 'stopped';
    if (exit.code !== 0) throw new Error(`ffmpeg could not play ${file} (code ${exit.code}, signal ${exit.signal}${exit.error ? `, ${exit.error.message}` : ''})`);
    return 'played';
  }

  /** Cuts the prompt playing now short (barge-in); its play() resolves 'stopped'. */
  stop(): void {
    this.stops++;
    void this.stopRun();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stops++;
    await this.stopRun();
    this.socket.close();
  }

  private async stopRun(): Promise<void> {
    const run = this.run;
    if (!run || run.stopped) return;
    run.stopped = true;
    await run.ffmpeg.stop();
  }

  private onPacket(packet: Buffer): void {
    const run = this.run;
    if (this.closed || !run || run.stopped || packet.length < 12) return;
    if (isRtcp(packet)) {
      const report = packet.readUInt32BE(4) === run.ssrc ? this.rewriter.rewriteSenderReport(packet) : undefined;
      if (report) this.options.ports.sendRtcp('audio', report);
      return;
    }
    if (ssrcOf(packet) === run.ssrc) this.options.ports.sendRtp('audio', this.rewriter.rewrite(packet, run.ssrc));
  }
}

/**
 * Frames of 20 ms at the encoder's rate: ffmpeg packs PCM and G.722 frames into RTP packets as
 * they come, so the packets are 20 ms only when the frames are (the decoded Opus file's are not
 * once resampled).
 */
function twentyMsFrames(encoderArgs: string[]): string {
  const rate = Number(encoderArgs[encoderArgs.indexOf('-ar') + 1]);
  return `aresample=${rate},asetnsamples=n=${rate / 50}`;
}
