import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { ListenIp } from '../config.js';
import type { MediaSource, ProducerAppData } from '../Participant.js';
import { FfmpegProcess } from './FfmpegProcess.js';
import {
  assertFeedSize,
  assertSupported,
  inputArgs,
  IngestSourceError,
  planVideo,
  pushedVideoPlan,
  type IngestSource,
  type IngestVideoPlan,
  type PushedStream,
} from './IngestSource.js';
import { SupervisedJob, type SupervisedJobEvents } from './SupervisedJob.js';
import { DEFAULT_BRIDGE_PORTS, releasePortPair, reservePortPair } from './udpPorts.js';

export interface IngestJobOptions {
  /** Names the job in logs; the producers' appData.participantId, as if the feed were a participant. */
  feedId: string;
  /** The router the feed is produced on; the caller owns it. */
  router: ms.Router;
  source: IngestSource;
  /** Where mediasoup's side of the plain transports listens (the SFU's configured listen address). */
  listenIp: ListenIp;
  logger: Logger;
  /** Re-encode the video to H.264 baseline even when it could be forwarded. */
  transcode?: boolean;
  /** ffmpeg runs in a row that end without media before the job fails (default 3). */
  maxRestarts?: number;
  /** Wait before pulling a dropped pull source again, doubling per failed run (ms, default 1000). */
  restartDelayMs?: number;
  /** UDP ports ffmpeg sends from (default DEFAULT_BRIDGE_PORTS). */
  ports?: { min: number; max: number };
  ffmpegPath?: string;
  ffprobePath?: string;
}

export interface IngestJobEvents extends SupervisedJobEvents {
  /** Media reaches the router (the first RTP packet of this ffmpeg run). */
  live: [];
  /** The publisher went away or the source ended, after having been live. */
  ended: [];
  /** ffmpeg runs again: listening for the publisher, or pulling the source again. */
  reconnecting: [];
  /** An RTMP listener's ffmpeg has bound its port: a publisher can push now. */
  listening: [];
  /** The source could not be read `maxRestarts` runs in a row, or the router closed; all is closed. */
  failed: [reason: Error];
  /**
   * A pushed stream was refused or ended before any media reached the router (bad codec, huge
   * picture, garbage); the job waits for the publisher's next connection.
   */
  rejected: [reason: Error];
}

/** What the feed's video is in this run, for status pages. */
export interface IngestVideoNow {
  transcoded: boolean;
  codec?: string;
  width?: number;
  height?: number;
}

/** Payload types ffmpeg is told to send, declared in the producers' rtpParameters. */
const VIDEO_PAYLOAD_TYPE = 102;
const AUDIO_PAYLOAD_TYPE = 111;
/** How long start() waits for an RTMP listener to bind its port (ms). */
const LISTEN_TIMEOUT_MS = 10_000;
/** A listened RTMP feed is listened for again after this (ms): the publisher reconnects to us. */
const RELISTEN_DELAY_MS = 100;
/** Key frames of re-encoded video, every this many seconds (forwarded video keeps the source's GOP). */
const TRANSCODED_KEY_FRAME_INTERVAL_S = 2;
/** A live feed whose video stops for this long has stalled: its run is ended (ms). */
const STALL_TIMEOUT_MS = 8000;
const STALL_CHECK_MS = 1000;
/** How long a pushed stream may take to describe its video before it is re-encoded blind (ms). */
const PUSHED_VIDEO_TIMEOUT_MS = 5000;
/** ffmpeg runs on the SFU's host. */
const LOOPBACK = '127.0.0.1';

interface Leg {
  kind: ms.MediaKind;
  transport: ms.PlainTransport;
  producer: ms.Producer;
  /** The port pair ffmpeg sends from: the same every run, so comedia keeps the tuple it learnt. */
  localPort: number;
}

/**
 * An ingest job: a drone or camera feed read by ffmpeg and produced on the router as an H.264 video
 * and an Opus audio producer, on two comedia plain transports (without rtcp-mux: ffmpeg sends RTCP
 * from its own port, and first). H.264 is forwarded without re-encoding when the router can carry
 * it; other video is re-encoded. The producers outlive the publisher: when it goes away the job
 * says 'ended' and reads the source again (an RTMP listener waits for the publisher to come back).
 *
 * Key frames: a consumer's key frame request reaches ffmpeg as RTCP that it ignores, and an RTMP or
 * RTSP publisher cannot be asked for one. Forwarded video therefore has the source's GOP (a new
 * viewer waits up to one GOP); re-encoded video has a key frame every 2 s.
 */
export class IngestJob extends SupervisedJob<IngestJobEvents> {
  private ffmpeg?: FfmpegProcess;
  private isLive = false;
  private failedRuns = 0;
  private videoNow: IngestVideoNow;
  private readonly pushAbort = new AbortController();
  private pushed?: PushedStream;

  private constructor(
    private readonly options: IngestJobOptions,
    private readonly plan: IngestVideoPlan,
    private readonly legs: Leg[],
    logger: Logger,
  ) {
    super(logger);
    this.videoNow = { transcoded: plan.transcode, width: plan.width, height: plan.height };
  }

  /**
   * Opens the transports and producers and starts ffmpeg; resolves once an RTMP listener listens
   * (or a pull has started). Rejects, leaving nothing open, if the source cannot be read or the
   * listener cannot bind.
   */
  static async start(options: IngestJobOptions): Promise<IngestJob> {
    const logger = options.logger.child({ feedId: options.feedId });
    await assertSupported(options.source, options.ffmpegPath);
    const { source } = options;
    if (source.kind === 'rtmp-listen' && (await tcpPortListening(source.port))) {
      throw new IngestSourceError(`rtmp port ${source.port} is in use`);
    }
    const plan = await planVideo(options.source, options.transcode ?? false, options.ffprobePath);
    logger.info({ source: options.source.kind, plan }, 'ingest planned');
    const legs: Leg[] = [];
    try {
      legs.push(await openLeg(options, 'video', plan));
      if (plan.audio) legs.push(await openLeg(options, 'audio', plan));
    } catch (error) {
      closeLegs(legs);
      throw error;
    }
    const job = new IngestJob(options, plan, legs, logger);
    for (const { transport } of legs) transport.on('routerclose', () => job.fail(new Error('the router closed')));
    legs[0]!.producer.on('trace', (trace) => job.onVideoTrace(trace));
    if (source.kind === 'push') {
      void job.runPushed();
      return job;
    }
    if (source.kind !== 'rtmp-listen') {
      job.run();
      return job;
    }
    await new Promise<void>((resolve, reject) => {
      job.once('failed', reject);
      job.once('listening', () => {
        job.off('failed', reject);
        resolve();
      });
      job.run();
    });
    return job;
  }

  get producers(): ms.Producer[] {
    return this.legs.map((leg) => leg.producer);
  }

  get live(): boolean {
    return this.isLive;
  }

  /** The pid of the ffmpeg running now, if one is. */
  get ffmpegPid(): number | undefined {
    return this.ffmpeg?.pid;
  }

  /** The video of the current (or last) run. */
  get video(): IngestVideoNow {
    return { ...this.videoNow };
  }

  /** Stops ffmpeg, then closes producers and transports, which releases the ports. */
  protected async release(): Promise<void> {
    this.pushAbort.abort();
    this.pushed?.close('the feed was stopped');
    await this.ffmpeg?.stop(0);
    closeLegs(this.legs);
  }

  /**
   * A pushed feed's runs: waits for the publisher's next connection, decides from its video
   * description whether to forward or re-encode, and feeds its FLV to one ffmpeg run, until stopped.
   */
  private async runPushed(): Promise<void> {
    const source = this.options.source as Extract<IngestSource, { kind: 'push' }>;
    while (!this.isEnding) {
      let stream: PushedStream;
      try {
        stream = await source.nextStream(this.pushAbort.signal);
      } catch (error) {
        if (!this.isEnding) this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (this.isEnding) {
        stream.close('the feed was stopped');
        return;
      }
      this.pushed = stream;
      const video = await stream.whenVideoKnown(PUSHED_VIDEO_TIMEOUT_MS);
      try {
        assertFeedSize(video?.width, video?.height);
      } catch (error) {
        stream.close((error as Error).message);
        this.logger.warn({ reason: (error as Error).message }, 'pushed stream refused');
        this.emit('rejected', error as Error);
        continue;
      }
      const plan = pushedVideoPlan(video);
      const transcode = this.plan.transcode || plan.transcode;
      if (plan.why && !this.plan.transcode) this.logger.info({ why: plan.why }, 're-encoding the pushed video');
      this.videoNow = { transcoded: transcode, codec: video?.codec, width: video?.width, height: video?.height };
      const ffmpeg = new FfmpegProcess(this.options.feedId, this.ffmpegArgs(transcode, stream.hasAudio), this.options.logger, {
        ffmpegPath: this.options.ffmpegPath,
        stdin: true,
      });
      this.ffmpeg = ffmpeg;
      this.legs[0]!.producer.enableTraceEvent(['rtp']).catch(() => undefined);
      stream.flv.pipe(ffmpeg.stdin!);
      const exit = await ffmpeg.exited;
      stream.flv.unpipe(ffmpeg.stdin!);
      stream.close(`ffmpeg exited (code ${exit.code}, signal ${exit.signal})`);
      if (this.ffmpeg === ffmpeg) this.ffmpeg = undefined;
      this.pushed = undefined;
      if (this.isEnding) return;
      const wasLive = this.isLive;
      this.isLive = false;
      if (wasLive) {
        this.logger.info('pushed feed ended');
        this.emit('ended');
      } else {
        const reason = new IngestSourceError(
          exit.error?.message ?? `the pushed stream ended before any media could be relayed (ffmpeg code ${exit.code}); check its codecs`,
        );
        this.emit('rejected', reason);
      }
      this.emit('reconnecting');
    }
  }

  /** Starts an ffmpeg run, watches for its first packet and, when it exits, reads the source again. */
  private run(): void {
    const ffmpeg = new FfmpegProcess(this.options.feedId, this.ffmpegArgs(this.plan.transcode), this.options.logger, {
      ffmpegPath: this.options.ffmpegPath,
    });
    this.ffmpeg = ffmpeg;
    this.legs[0]!.producer.enableTraceEvent(['rtp']).catch(() => undefined); // a closed producer ends the job anyway
    const { source } = this.options;
    if (source.kind === 'rtmp-listen') {
      void this.whenListening(ffmpeg, source.port).then((listening) => {
        if (listening) this.emit('listening');
        else if (this.ffmpeg === ffmpeg && !this.isEnding) ffmpeg.stop(0).catch(() => undefined); // its exit counts as a failed run
      });
    }
    void ffmpeg.exited.then((exit) => {
      if (this.ffmpeg !== ffmpeg || this.isEnding) return;
      this.ffmpeg = undefined;
      const wasLive = this.isLive;
      this.isLive = false;
      this.failedRuns = wasLive ? 0 : this.failedRuns + 1;
      const reason = exit.error?.message ?? `ffmpeg exited (code ${exit.code}, signal ${exit.signal})`;
      if (wasLive) {
        this.logger.info({ reason }, 'feed ended');
        this.emit('ended');
      }
      const maxRestarts = this.options.maxRestarts ?? 3;
      if (this.failedRuns > maxRestarts) {
        this.fail(new Error(`${reason}; no media in ${this.failedRuns} runs in a row`));
        return;
      }
      const delay =
        this.options.source.kind === 'rtmp-listen'
          ? RELISTEN_DELAY_MS
          : (this.options.restartDelayMs ?? 1000) * 2 ** Math.max(0, this.failedRuns - 1);
      this.logger.warn({ reason, delay, failedRuns: this.failedRuns }, 'reading the feed again');
      this.emit('reconnecting');
      this.after(delay, () => this.run());
    });
  }

  /** ffmpeg's arguments; `withAudio` false leaves the audio producer silent (a feed without audio). */
  private ffmpegArgs(transcode: boolean, withAudio = true): string[] {
    const [video, audio] = withAudio ? this.legs : [this.legs[0]];
    const videoCodec = transcode
      ? [
          '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
          '-force_key_frames', `expr:gte(t,n_forced*${TRANSCODED_KEY_FRAME_INTERVAL_S})`,
        ]
      : ['-c:v', 'copy', '-bsf:v', 'h264_mp4toannexb'];
    const args = [...inputArgs(this.options.source), '-map', '0:v:0', ...videoCodec, ...rtpOutput(video!, VIDEO_PAYLOAD_TYPE)];
    if (audio) args.push('-map', '0:a:0', '-c:a', 'libopus', '-ar', '48000', '-ac', '2', ...rtpOutput(audio, AUDIO_PAYLOAD_TYPE));
    return args;
  }

  /** 'live' on the first RTP packet the video producer receives in an ffmpeg run. */
  private onVideoTrace(trace: ms.ProducerTraceEventData): void {
    if (trace.type !== 'rtp' || this.isLive || this.isEnding) return;
    this.legs[0]!.producer.enableTraceEvent([]).catch(() => undefined);
    this.isLive = true;
    this.logger.info('feed live');
    this.emit('live');
    this.watchForStall(this.ffmpeg);
  }

  /**
   * A source can hang without closing (a camera's stream stops, a network path dies): ffmpeg then
   * waits forever. While live, the video producer must keep receiving; after STALL_TIMEOUT_MS
   * without a byte the run is ended, which reads the source again (pull) or waits for the
   * publisher (push).
   */
  private watchForStall(ffmpeg: FfmpegProcess | undefined): void {
    const producer = this.legs[0]!.producer;
    let lastBytes = -1;
    let lastChange = Date.now();
    const check = async (): Promise<void> => {
      if (!ffmpeg || this.ffmpeg !== ffmpeg || !this.isLive || this.isEnding || producer.closed) return;
      const bytes = (await producer.getStats().catch(() => []))[0]?.byteCount ?? 0;
      if (bytes !== lastBytes) {
        lastBytes = bytes;
        lastChange = Date.now();
      } else if (Date.now() - lastChange >= STALL_TIMEOUT_MS) {
        this.logger.warn({ silentMs: Date.now() - lastChange }, 'the source stalled: reading it again');
        this.pushed?.close('the publisher stopped sending');
        await ffmpeg.stop(0);
        return;
      }
      this.after(STALL_CHECK_MS, () => void check());
    };
    void check();
  }

  /** Waits until a TCP socket listens on `port`; false if `ffmpeg` exits or takes too long. */
  private async whenListening(ffmpeg: FfmpegProcess, port: number): Promise<boolean> {
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (this.ffmpeg === ffmpeg && !this.isEnding && Date.now() < deadline) {
      if (await tcpPortListening(port)) return true;
      await new Promise<void>((resolve) => this.after(50, resolve));
    }
    return false;
  }
}

/** A comedia plain transport (RTCP on its own port) and the producer ffmpeg's stream arrives as. */
async function openLeg(options: IngestJobOptions, kind: ms.MediaKind, plan: IngestVideoPlan): Promise<Leg> {
  const { router, listenIp, feedId } = options;
  const localPort = await reservePortPair(options.ports ?? DEFAULT_BRIDGE_PORTS);
  let transport: ms.PlainTransport | undefined;
  try {
    transport = await router.createPlainTransport({ listenIp, rtcpMux: false, comedia: true, appData: { feedId, type: 'ingest' } });
    transport.observer.once('close', () => releasePortPair(localPort));
    const source: MediaSource = kind === 'video' ? 'camera' : 'microphone';
    const appData: ProducerAppData = { participantId: feedId, source };
    const producer = await transport.produce({ kind, rtpParameters: rtpParameters(kind, plan), appData });
    return { kind, transport, producer, localPort };
  } catch (error) {
    if (transport) transport.close();
    else releasePortPair(localPort);
    throw error;
  }
}

function rtpParameters(kind: ms.MediaKind, plan: IngestVideoPlan): ms.RtpParameters {
  const ssrc = randomInt(1, 2 ** 31); // ffmpeg's -ssrc is a signed int
  const codec: ms.RtpCodecParameters =
    kind === 'video'
      ? {
          mimeType: 'video/H264',
          payloadType: VIDEO_PAYLOAD_TYPE,
          clockRate: 90000,
          parameters: { 'packetization-mode': 1, 'profile-level-id': plan.profileLevelId, 'level-asymmetry-allowed': 1 },
        }
      : { mimeType: 'audio/opus', payloadType: AUDIO_PAYLOAD_TYPE, clockRate: 48000, channels: 2 };
  return { codecs: [codec], encodings: [{ ssrc }] };
}

/** ffmpeg's RTP output for one leg: to the transport's RTP and RTCP ports, from the leg's own pair. */
function rtpOutput({ transport, producer, localPort }: Leg, payloadType: number): string[] {
  const ip = transport.tuple.localIp === '0.0.0.0' ? LOOPBACK : transport.tuple.localIp;
  const query = `rtcpport=${transport.rtcpTuple!.localPort}&localrtpport=${localPort}&localrtcpport=${localPort + 1}&pkt_size=1200`;
  const ssrc = producer.rtpParameters.encodings![0]!.ssrc!;
  return ['-payload_type', String(payloadType), '-ssrc', String(ssrc), '-f', 'rtp', `rtp://${ip}:${transport.tuple.localPort}?${query}`];
}

function closeLegs(legs: Leg[]): void {
  for (const { transport } of legs) transport.close();
}

/** Whether a TCP socket on this host listens on `port` (Linux /proc/net, state 0A). */
async function tcpPortListening(port: number): Promise<boolean> {
  const tables = await Promise.all(['/proc/net/tcp', '/proc/net/tcp6'].map((path) => readFile(path, 'utf8').catch(() => '')));
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  return tables
    .join('\n')
    .split('\n')
    .some((line) => {
      const [, local, , state] = line.trim().split(/\s+/);
      return state === '0A' && local?.endsWith(`:${hex}`);
    });
}
