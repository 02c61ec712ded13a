import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { ListenIp } from '../config.js';
import { FfmpegProcess } from './FfmpegProcess.js';
import { receiveSdp } from './sdp.js';
import { SupervisedJob, type SupervisedJobEvents } from './SupervisedJob.js';
import { DEFAULT_BRIDGE_PORTS, releasePortPair, reservePortPair, udpPortsBound } from './udpPorts.js';

export interface RtpBridgeOptions {
  /** Names the job in logs and temp files. */
  jobId: string;
  /** The router the producers live on (pipe them there first if they live on another). */
  router: ms.Router;
  producers: ms.Producer[];
  /** Where mediasoup's side of the plain transports listens (the SFU's configured listen address). */
  listenIp: ListenIp;
  /** ffmpeg's arguments after its input, for each run: 0 first, then 1, 2, … after restarts. */
  outputArgs: (run: number) => string[];
  logger: Logger;
  /** Restarts of an ffmpeg that exits on its own before the job fails (default 3). */
  maxRestarts?: number;
  /** Wait before the first restart, doubling for each next one (ms, default 1000). */
  restartDelayMs?: number;
  /** UDP ports ffmpeg may listen on (default DEFAULT_BRIDGE_PORTS). */
  ports?: { min: number; max: number };
  ffmpegPath?: string;
}

export interface RtpBridgeEvents extends SupervisedJobEvents {
  /** The first ffmpeg run listens and the consumers send to it. */
  started: [];
  /** An ffmpeg that had exited on its own runs again (`run` counts from 1). */
  restarted: [run: number];
  /** A video consumer's first key frame of this run reached ffmpeg: its picture starts now. */
  keyframe: [consumerId: string];
  /** ffmpeg could not be kept running, or the router closed; everything is closed already. */
  failed: [reason: Error];
  /** stop() finished, or every producer closed: ffmpeg has exited and everything is closed. */
  stopped: [];
}

/** How long one ffmpeg run may take to bind its ports (ms). */
const LISTEN_TIMEOUT_MS = 10_000;
/** Key frames are asked for this often after a run starts, until one reaches ffmpeg (ms)… */
const KEY_FRAME_RETRY_MS = 2000;
/** …or until this much time has passed (ms). */
const KEY_FRAME_GIVE_UP_MS = 10_000;
/** A job's output file is written to the loopback: ffmpeg runs on the SFU's host. */
const FFMPEG_IP = '127.0.0.1';

interface Leg {
  transport: ms.PlainTransport;
  consumer: ms.Consumer;
  /** ffmpeg's RTP port for this leg (RTCP on port + 1). */
  port: number;
}

/**
 * An egress job: the given producers, consumed on plain transports (one per stream, without
 * rtcp-mux, as ffmpeg listens), sent to one ffmpeg that reads them through an SDP file and writes
 * whatever `outputArgs` say. The job owns its transports, consumers, ports, temp files and ffmpeg:
 * an ffmpeg that exits on its own is restarted with backoff up to `maxRestarts` times, then the job
 * fails; stop() or a failure closes all of it.
 */
export class RtpBridge extends SupervisedJob<RtpBridgeEvents> {
  private ffmpeg?: FfmpegProcess;
  private runs = 0;

  private constructor(
    private readonly options: RtpBridgeOptions,
    private readonly legs: Leg[],
    private readonly sdpDir: string,
    logger: Logger,
  ) {
    super(logger);
  }

  /** Starts the job; resolves once ffmpeg listens and media flows, rejects if it fails first. */
  static async start(options: RtpBridgeOptions): Promise<RtpBridge> {
    const logger = options.logger.child({ jobId: options.jobId });
    const legs: Leg[] = [];
    let sdpDir: string | undefined;
    try {
      for (const producer of options.producers) legs.push(await openLeg(options, producer));
      sdpDir = await mkdtemp(join(tmpdir(), `cityconf-bridge-${options.jobId.replace(/[^\w-]/g, '_')}-`));
      const sdp = receiveSdp(
        legs.map(({ consumer, port }) => ({ kind: consumer.kind, port, rtpParameters: consumer.rtpParameters })),
        FFMPEG_IP,
      );
      await writeFile(join(sdpDir, 'job.sdp'), sdp);
    } catch (error) {
      closeLegs(legs);
      if (sdpDir) await rm(sdpDir, { recursive: true, force: true });
      throw error;
    }
    const bridge = new RtpBridge(options, legs, sdpDir, logger);
    const started = new Promise<void>((resolve, reject) => {
      bridge.once('started', resolve);
      bridge.once('failed', reject);
      bridge.once('stopped', () => reject(new Error(`bridge job ${options.jobId} stopped before it started`)));
    });
    bridge.watchMedia();
    bridge.run();
    await started;
    return bridge;
  }

  /** The pid of the ffmpeg running now, if one is. */
  get ffmpegPid(): number | undefined {
    return this.ffmpeg?.pid;
  }

  get consumers(): ms.Consumer[] {
    return this.legs.map((leg) => leg.consumer);
  }

  /** Stops ffmpeg (letting it finish its output), then closes consumers and transports and removes the SDP. */
  protected async release(): Promise<void> {
    await this.ffmpeg?.stop();
    closeLegs(this.legs);
    await rm(this.sdpDir, { recursive: true, force: true });
  }

  /** A producer closing ends the job; the router closing under it fails it. */
  private watchMedia(): void {
    for (const { consumer, transport } of this.legs) {
      consumer.on('producerclose', () => void this.stop());
      transport.on('routerclose', () => this.fail(new Error('the router closed')));
    }
  }

  /** Starts an ffmpeg run and supervises it. */
  private run(): void {
    const run = this.runs;
    const ffmpeg = new FfmpegProcess(
      this.options.jobId,
      ['-protocol_whitelist', 'file,udp,rtp', '-i', join(this.sdpDir, 'job.sdp'), ...this.options.outputArgs(run)],
      this.options.logger,
      { ffmpegPath: this.options.ffmpegPath },
    );
    this.ffmpeg = ffmpeg;
    void ffmpeg.exited.then((exit) => {
      if (this.ffmpeg !== ffmpeg || this.isEnding) return;
      this.ffmpeg = undefined;
      const reason = exit.error?.message ?? `ffmpeg exited on its own (code ${exit.code}, signal ${exit.signal})`;
      this.restartOrFail(reason);
    });
    void this.whenListening(ffmpeg).then(async (listening) => {
      if (this.ffmpeg !== ffmpeg || this.isEnding) return;
      if (!listening) {
        this.logger.warn('ffmpeg did not open its ports in time');
        ffmpeg.stop(0).catch(() => undefined); // its exit restarts it
        return;
      }
      try {
        await Promise.all(this.legs.map(({ consumer }) => consumer.resume()));
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.requestKeyFrames(ffmpeg);
      if (run === 0) {
        this.emit('started');
      } else {
        this.emit('restarted', run);
      }
    });
  }

  private restartOrFail(reason: string): void {
    const maxRestarts = this.options.maxRestarts ?? 3;
    if (this.runs >= maxRestarts) {
      this.fail(new Error(`${reason}; gave up after ${this.runs} restarts`));
      return;
    }
    this.runs++;
    const delay = (this.options.restartDelayMs ?? 1000) * 2 ** (this.runs - 1);
    this.logger.warn({ reason, run: this.runs, delay }, 'restarting ffmpeg');
    this.after(delay, () => this.run());
  }

  /** Waits until `ffmpeg` binds all its RTP and RTCP ports; false if it exits or takes too long. */
  private async whenListening(ffmpeg: FfmpegProcess): Promise<boolean> {
    const ports = this.legs.flatMap(({ port }) => [port, port + 1]);
    let exited = false;
    void ffmpeg.exited.then(() => (exited = true));
    const deadline = Date.now() + LISTEN_TIMEOUT_MS;
    while (!exited && !this.isEnding && Date.now() < deadline) {
      if (await udpPortsBound(ports)) return true;
      await new Promise<void>((resolve) => this.after(50, resolve));
    }
    return false;
  }

  /**
   * ffmpeg cannot decode video before a key frame: ask every video producer for one now and every
   * KEY_FRAME_RETRY_MS until one reached ffmpeg, for at most KEY_FRAME_GIVE_UP_MS.
   */
  private requestKeyFrames(ffmpeg: FfmpegProcess): void {
    const giveUp = Date.now() + KEY_FRAME_GIVE_UP_MS;
    for (const { consumer } of this.legs) {
      if (consumer.kind !== 'video') continue;
      let delivered = false;
      const onTrace = (trace: ms.ConsumerTraceEventData): void => {
        if (trace.type !== 'keyframe' || trace.direction !== 'out' || delivered) return;
        delivered = true;
        if (this.ffmpeg === ffmpeg && !this.isEnding) this.emit('keyframe', consumer.id);
      };
      consumer.on('trace', onTrace);
      const ask = (): void => {
        if (delivered || consumer.closed || this.ffmpeg !== ffmpeg || this.isEnding || Date.now() > giveUp) {
          consumer.off('trace', onTrace);
          if (!consumer.closed) consumer.enableTraceEvent([]).catch(() => undefined);
          return;
        }
        consumer.requestKeyFrame().catch(() => undefined); // the consumer closing ends the loop
        this.after(KEY_FRAME_RETRY_MS, ask);
      };
      consumer.enableTraceEvent(['keyframe']).then(ask, () => undefined);
    }
  }

}

/** A plain transport on the router and a paused consumer of `producer` on it, sending to a free port. */
async function openLeg(options: RtpBridgeOptions, producer: ms.Producer): Promise<Leg> {
  const { router, listenIp, jobId } = options;
  const port = await reservePortPair(options.ports ?? DEFAULT_BRIDGE_PORTS);
  let transport: ms.PlainTransport | undefined;
  try {
    transport = await router.createPlainTransport({ listenIp, rtcpMux: false, comedia: false, appData: { jobId, type: 'bridge' } });
    transport.observer.once('close', () => releasePortPair(port));
    await transport.connect({ ip: FFMPEG_IP, port, rtcpPort: port + 1 });
    const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: ffmpegCapabilities(router), paused: true });
    return { transport, consumer, port };
  } catch (error) {
    if (transport) transport.close();
    else releasePortPair(port);
    throw error;
  }
}

/** What ffmpeg receives: the router's codecs without RTX, and no header extensions. */
function ffmpegCapabilities(router: ms.Router): ms.RtpCapabilities {
  const { codecs = [] } = router.rtpCapabilities;
  return { codecs: codecs.filter((codec) => !/\/rtx$/i.test(codec.mimeType)), headerExtensions: [] };
}

function closeLegs(legs: Leg[]): void {
  for (const { transport } of legs) transport.close();
}
