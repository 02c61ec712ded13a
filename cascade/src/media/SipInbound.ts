import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  DEFAULT_BRIDGE_PORTS,
  releasePortPair,
  reservePortPair,
  SupervisedJob,
  type ListenIp,
  type mediasoupTypes as ms,
  type ProducerAppData,
  type SupervisedJobEvents,
} from '@cityconf/sfu';
import type { Logger } from 'pino';
import { decodeTelephoneEvent, DTMF_KEYS, parseProfileLevelId, type NegotiatedMedia, type Negotiation } from '../sdp/index.js';
import { LoopbackFfmpeg } from './LoopbackFfmpeg.js';
import { MediaPorts, type MediaKind, type MediaPortsOptions } from './MediaPorts.js';
import { payloadOffset, payloadTypeOf, pictureLossIndication, ssrcOf, timestampOf } from './rtp.js';

export interface SipInboundOptions {
  /** Names the leg in logs and temp files; the producers' appData.participantId. */
  legId: string;
  /** The router the producers are made on; the caller owns it. */
  router: ms.Router;
  /** Where mediasoup's side of the plain transports listens (the SFU's configured listen address). */
  listenIp: ListenIp;
  logger: Logger;
  /** Adopts the producers into the meeting (Participant.adopt), so they are heard and seen. */
  participant?: { adopt(producer: ms.Producer): Promise<void> };
  /** Seconds of no RTP from the peer before 'mediaTimeout' (default 15). */
  mediaTimeoutS?: number;
  /** Where the leg's SIP media ports are bound (the ones our SDP advertises). */
  sipPorts?: MediaPortsOptions;
  /** The leg's ports, bound already (an IVR answered the call on them): SipInbound owns them from now on and closes them. */
  ports?: MediaPorts;
  /** UDP ports on 127.0.0.1 for ffmpeg (default DEFAULT_BRIDGE_PORTS). */
  bridgePorts?: { min: number; max: number };
  ffmpegPath?: string;
}

export interface SipInboundEvents extends SupervisedJobEvents {
  /** No RTP came from the peer for mediaTimeoutS; said once per silence. */
  mediaTimeout: [];
  /** The meeting's viewers need a key frame: send the peer INFO picture_fast_update (a PLI went already). */
  keyFrameNeeded: [];
  /** A DTMF key the peer sent as RFC 4733 events (plain RTP only: SRTP payloads are not read here). */
  dtmf: [key: string];
}

/** Payload types ffmpeg is told to send, declared in the producers' rtpParameters. */
const PAYLOAD_TYPE: Record<MediaKind, number> = { video: 102, audio: 111 };
/** Key frame requests to the peer, at most one per this interval (ms). */
const KEY_FRAME_REQUEST_INTERVAL_MS = 500;
/** Until a run has the peer's first key frame, it is asked for one this often (ms). */
const FIRST_KEY_FRAME_RETRY_MS = 1000;
/** How long ffmpeg waits for the streams' parameters (the video's SPS comes with the first key frame). */
const ANALYZE_DURATION_US = 10_000_000;
/** An ffmpeg run shorter than this that ends on its own counts as failed (ms). */
const HEALTHY_RUN_MS = 5000;
const MAX_FAILED_RUNS = 3;
const RESTART_DELAY_MS = 1000;
const LOOPBACK = '127.0.0.1';

interface Leg {
  kind: MediaKind;
  media: NegotiatedMedia;
  transport: ms.PlainTransport;
  producer: ms.Producer;
  /** ffmpeg sends to the producer from here, the same every run so comedia keeps its tuple. */
  outputPort: number;
  /**
   * Other payload types the peer may send the negotiated codec (or its DTMF) with: our offer's
   * numbers for it, which RFC 3264 lets an answerer send with whatever its answer said (baresip
   * answers 98 and sends 96, say).
   */
  codecAliases: Set<number>;
  eventAliases: Set<number>;
}

/**
 * The media of a SIP leg into the meeting: the peer's RTP arrives on the leg's ports (MediaPorts),
 * Node relays it to ffmpeg on the loopback, and ffmpeg makes it an H.264 producer (copied, not
 * re-encoded) and an Opus producer on comedia plain transports, as IngestJob does for feeds.
 * Node in front of ffmpeg holds the ports from the SDP answer on, sees the peer's SSRC (for the PLI
 * we send), its silence (mediaTimeout), its DTMF, and its RTCP key frame requests.
 */
export class SipInbound extends SupervisedJob<SipInboundEvents> {
  private mediaPorts?: MediaPorts;
  private legs: Leg[] = [];
  private relay?: Socket;
  private ffmpeg?: LoopbackFfmpeg;
  private failedRuns = 0;
  private lastPacketAt = 0;
  private timedOut = false;
  private watchdog?: NodeJS.Timeout;
  private peerVideoSsrc?: number;
  private readonly localVideoSsrc = randomInt(1, 2 ** 31);
  private lastKeyFrameRequest = 0;
  /** The ffmpeg run that asked the peer for its first key frame already. */
  private lastDtmfTimestamp?: number;

  constructor(private readonly options: SipInboundOptions) {
    super(options.logger.child({ legId: options.legId, direction: 'inbound' }));
    this.mediaPorts = options.ports;
  }

  /** The leg's ports, bound now: put them in the SDP answer (or offer), then start(). */
  async allocate(): Promise<{ audioPort: number; videoPort: number }> {
    this.mediaPorts ??= await MediaPorts.allocate(this.options.sipPorts);
    return { audioPort: this.mediaPorts.audioPort, videoPort: this.mediaPorts.videoPort };
  }

  /** The leg's ports, for SipOutbound to send from (allocate() first). */
  get ports(): MediaPorts {
    if (!this.mediaPorts) throw new Error('allocate() the ports first');
    return this.mediaPorts;
  }

  get producers(): ms.Producer[] {
    return this.legs.map((leg) => leg.producer);
  }

  /** Opens the producers for what the peer sends and starts relaying it through ffmpeg. */
  async start(negotiation: Negotiation): Promise<void> {
    const ports = this.ports;
    ports.setPeer(negotiation);
    try {
      for (const kind of ['video', 'audio'] as const) {
        const media = negotiation[kind];
        if (media && (media.direction === 'sendrecv' || media.direction === 'recvonly')) {
          this.legs.push({ ...(await this.openLeg(kind, media)), ...payloadAliases(negotiation, media) });
        }
      }
      if (this.legs.length === 0) throw new Error('the peer sends no media we take');
      this.relay = createSocket('udp4');
      await new Promise<void>((resolve) => this.relay!.bind(0, LOOPBACK, resolve));
    } catch (error) {
      await this.stop();
      throw error;
    }
    for (const { producer, transport } of this.legs) {
      producer.on('transportclose', () => this.fail(new Error('the router closed')));
      transport.on('routerclose', () => this.fail(new Error('the router closed')));
    }
    this.watchKeyFrameRequests();
    ports.on('rtp', (kind, packet) => this.onPeerRtp(kind, packet));
    ports.on('rtcp', (kind, packet) => this.onPeerRtcp(kind, packet));
    this.lastPacketAt = Date.now();
    this.watchdog = setInterval(() => this.checkMediaTimeout(), 250);
    await this.run();
    for (const { producer } of this.legs) await this.options.participant?.adopt(producer);
  }

  /** Asks the peer for a key frame now with RTCP PLI (also done on the meeting's own requests). */
  requestKeyFrame(): void {
    if (this.peerVideoSsrc === undefined) return;
    this.mediaPorts?.sendRtcp('video', pictureLossIndication(this.localVideoSsrc, this.peerVideoSsrc));
  }

  protected async release(): Promise<void> {
    clearInterval(this.watchdog);
    await this.ffmpeg?.stop();
    for (const { transport } of this.legs) transport.close();
    this.relay?.close();
    this.mediaPorts?.close();
  }

  private async openLeg(kind: MediaKind, media: NegotiatedMedia): Promise<Omit<Leg, 'codecAliases' | 'eventAliases'>> {
    const { router, listenIp, legId } = this.options;
    const range = this.options.bridgePorts ?? DEFAULT_BRIDGE_PORTS;
    const outputPort = await reservePortPair(range);
    let transport: ms.PlainTransport;
    try {
      transport = await router.createPlainTransport({ listenIp, rtcpMux: false, comedia: true, appData: { legId, type: 'sip-inbound' } });
    } catch (error) {
      releasePortPair(outputPort);
      throw error;
    }
    transport.observer.once('close', () => releasePortPair(outputPort));
    const appData: ProducerAppData = { participantId: legId, source: kind === 'video' ? 'camera' : 'microphone' };
    try {
      const producer = await transport.produce({ kind, rtpParameters: producerParameters(kind, media), appData });
      return { kind, media, transport, producer, outputPort };
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** An ffmpeg run reading the peer's streams; when it ends on its own, another after a pause. */
  private async run(): Promise<void> {
    const { legId, logger, bridgePorts, ffmpegPath } = this.options;
    let ffmpeg: LoopbackFfmpeg;
    try {
      ffmpeg = await LoopbackFfmpeg.start({
        jobId: legId,
        inputs: this.legs.map(({ kind, media }) => ({
          kind,
          rtpParameters: { codecs: [peerCodec(media)] },
          ...(media.srtp ? { srtp: { suite: media.srtp.suite, key: media.srtp.remoteKey } } : {}),
        })),
        args: (sdp) => ['-analyzeduration', String(ANALYZE_DURATION_US), '-i', sdp!, ...this.outputArgs()],
        logger,
        ...(bridgePorts ? { bridgePorts } : {}),
        ...(ffmpegPath ? { ffmpegPath } : {}),
      });
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.isEnding) {
      await ffmpeg.stop();
      return;
    }
    this.ffmpeg = ffmpeg;
    void this.askUntilVideoFlows(ffmpeg);
    const startedAt = Date.now();
    void ffmpeg.exited.then(async (exit) => {
      if (this.ffmpeg !== ffmpeg || this.isEnding) return;
      this.ffmpeg = undefined;
      await ffmpeg.stop(); // releases its ports and files
      this.failedRuns = Date.now() - startedAt < HEALTHY_RUN_MS ? this.failedRuns + 1 : 0;
      const reason = exit.error?.message ?? `ffmpeg exited (code ${exit.code}, signal ${exit.signal})`;
      if (this.failedRuns > MAX_FAILED_RUNS) {
        this.fail(new Error(`${reason}; ${this.failedRuns} short runs in a row`));
        return;
      }
      this.logger.warn({ reason }, 'relaying the peer again');
      this.after(RESTART_DELAY_MS, () => void this.run());
    });
  }

  private outputArgs(): string[] {
    return this.legs.flatMap((leg, index) => {
      const codec = leg.kind === 'video' ? ['-c:v', 'copy'] : ['-c:a', 'libopus', '-ar', '48000', '-ac', '2'];
      return ['-map', `0:${index}`, ...codec, ...rtpOutput(leg)];
    });
  }

  private onPeerRtp(kind: MediaKind, packet: Buffer): void {
    const leg = this.legs.find((candidate) => candidate.kind === kind);
    if (!leg || packet.length < 12) return;
    this.lastPacketAt = Date.now();
    this.timedOut = false;
    if (kind === 'video') this.peerVideoSsrc = ssrcOf(packet);
    const payloadType = payloadTypeOf(packet);
    if (payloadType === leg.media.telephoneEvent?.payloadType || leg.eventAliases.has(payloadType)) {
      this.onTelephoneEvent(leg.media, packet);
      return;
    }
    // ffmpeg takes one payload type per stream: the negotiated one (SRTP's authentication covers the header).
    if (leg.codecAliases.has(payloadType) && !leg.media.srtp) packet[1] = (packet[1]! & 0x80) | leg.media.payloadType;
    this.relayToFfmpeg(leg, packet, 0);
  }

  /**
   * ffmpeg learns the video's size from the SPS the peer sends with key frames, and the peer may
   * have started long before this run (or sent its key frame before ffmpeg listened): until the
   * run's video reaches the producer, the peer is asked for a key frame every second (RTCP PLI and
   * SIP INFO) — some terminals only send one every ten seconds on their own.
   */
  private async askUntilVideoFlows(ffmpeg: LoopbackFfmpeg): Promise<void> {
    const video = this.legs.find((leg) => leg.kind === 'video');
    if (!video) return;
    const bytes = async (): Promise<number> => (await video.producer.getStats().catch(() => []))[0]?.byteCount ?? 0;
    const before = await bytes();
    while (this.ffmpeg === ffmpeg && !this.isEnding && !video.producer.closed) {
      if ((await bytes()) > before) return;
      if (this.peerVideoSsrc !== undefined) {
        this.requestKeyFrame();
        this.emit('keyFrameNeeded');
      }
      await new Promise<void>((resolve) => this.after(FIRST_KEY_FRAME_RETRY_MS, resolve)); // never resolves once stopped
    }
  }

  private onPeerRtcp(kind: MediaKind, packet: Buffer): void {
    const leg = this.legs.find((candidate) => candidate.kind === kind);
    if (leg) this.relayToFfmpeg(leg, packet, 1);
  }

  /** To the running ffmpeg's RTP (offset 0) or RTCP (1) port of the leg's stream. */
  private relayToFfmpeg(leg: Leg, packet: Buffer, offset: 0 | 1): void {
    const port = this.ffmpeg?.inputPorts[this.legs.indexOf(leg)];
    if (port !== undefined) this.relay?.send(packet, port + offset, LOOPBACK);
  }

  private onTelephoneEvent(media: NegotiatedMedia, packet: Buffer): void {
    if (media.srtp) return;
    const event = decodeTelephoneEvent(packet.subarray(payloadOffset(packet)));
    const timestamp = timestampOf(packet);
    if (!event.end || timestamp === this.lastDtmfTimestamp) return;
    this.lastDtmfTimestamp = timestamp;
    const key = DTMF_KEYS[event.event];
    if (key) this.emit('dtmf', key);
  }

  private checkMediaTimeout(): void {
    const timeoutMs = (this.options.mediaTimeoutS ?? 15) * 1000;
    if (this.timedOut || Date.now() - this.lastPacketAt < timeoutMs) return;
    this.timedOut = true;
    this.logger.warn({ timeoutMs }, 'no media from the peer');
    this.emit('mediaTimeout');
  }

  /** The router asks the video producer for key frames: pass that on to the peer. */
  private watchKeyFrameRequests(): void {
    const video = this.legs.find((leg) => leg.kind === 'video');
    if (!video) return;
    video.producer.on('trace', (trace) => {
      if ((trace.type !== 'pli' && trace.type !== 'fir') || trace.direction !== 'out') return;
      const now = Date.now();
      if (now - this.lastKeyFrameRequest < KEY_FRAME_REQUEST_INTERVAL_MS) return;
      this.lastKeyFrameRequest = now;
      this.requestKeyFrame();
      this.emit('keyFrameNeeded');
    });
    video.producer.enableTraceEvent(['pli', 'fir']).catch(() => undefined); // a closed producer ends the leg anyway
  }
}

/** The peer's codec as ffmpeg must expect it. */
function peerCodec({ kind, payloadType, codec }: NegotiatedMedia): ms.RtpCodecParameters {
  return {
    mimeType: `${kind}/${codec.name}`,
    payloadType,
    clockRate: codec.clockRate,
    ...(codec.channels ? { channels: codec.channels } : {}),
    parameters: codec.parameters,
  };
}

/** Our SDP's other payload types for the negotiated codec and for telephone-event (see Leg). */
function payloadAliases(negotiation: Negotiation, media: NegotiatedMedia): Pick<Leg, 'codecAliases' | 'eventAliases'> {
  const ours = negotiation.session.media[media.index]?.payloads ?? [];
  const named = (name: string, clockRate: number): Set<number> =>
    new Set(
      ours
        .filter(({ rtpmap }) => rtpmap?.encodingName.toLowerCase() === name.toLowerCase() && rtpmap.clockRate === clockRate)
        .map(({ payloadType }) => payloadType)
        .filter((payloadType) => payloadType !== media.payloadType && payloadType !== media.telephoneEvent?.payloadType),
    );
  return {
    codecAliases: named(media.codec.name, media.codec.clockRate),
    eventAliases: media.telephoneEvent ? named('telephone-event', media.telephoneEvent.clockRate) : new Set(),
  };
}

/**
 * The producer's codec: Opus, or the peer's H.264 declared in the profile browsers negotiate
 * (Baseline as 42e01f; Main and High as 4d001f, see ROUTER_PROFILES in sfu IngestSource.ts).
 */
function producerParameters(kind: MediaKind, media: NegotiatedMedia): ms.RtpParameters {
  const ssrc = randomInt(1, 2 ** 31); // ffmpeg's -ssrc is a signed int
  if (kind === 'audio') return { codecs: [{ mimeType: 'audio/opus', payloadType: PAYLOAD_TYPE.audio, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] };
  const profile = parseProfileLevelId(media.codec.parameters['profile-level-id'])?.profile;
  const profileLevelId = profile === 'main' || profile === 'high' || profile === 'constrained-high' ? '4d001f' : '42e01f';
  const parameters = { 'packetization-mode': 1, 'profile-level-id': profileLevelId, 'level-asymmetry-allowed': 1 };
  // PLI feedback makes the router send the producer PLIs, which are its key frame requests to us.
  const rtcpFeedback = [{ type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];
  return { codecs: [{ mimeType: 'video/H264', payloadType: PAYLOAD_TYPE.video, clockRate: 90000, parameters, rtcpFeedback }], encodings: [{ ssrc }] };
}

function rtpOutput({ kind, transport, producer, outputPort }: Leg): string[] {
  const ip = transport.tuple.localIp === '0.0.0.0' ? LOOPBACK : transport.tuple.localIp;
  const query = `rtcpport=${transport.rtcpTuple!.localPort}&localrtpport=${outputPort}&localrtcpport=${outputPort + 1}&pkt_size=1200`;
  const ssrc = producer.rtpParameters.encodings![0]!.ssrc!;
  return ['-payload_type', String(PAYLOAD_TYPE[kind]), '-ssrc', String(ssrc), '-f', 'rtp', `rtp://${ip}:${transport.tuple.localPort}?${query}`];
}
