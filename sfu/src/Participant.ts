import { EventEmitter } from 'node:events';
import mediasoup, { type types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { SfuConfig } from './config.js';
import { SfuError } from './errors.js';

export type TransportDirection = 'send' | 'recv';
/**
 * webrtc: browsers (ICE + DTLS-SRTP). plain: RTP/RTCP over UDP without encryption, for
 * meeting-room terminals, bridges, ffmpeg and load-test bots on a trusted network.
 */
export type TransportType = 'webrtc' | 'plain';
export type MediaSource = 'camera' | 'microphone' | 'screen';

export interface ProducerAppData {
  participantId: string;
  source: MediaSource;
}

/** Key frame requests to one sender are coalesced to one per this interval (ms). */
export const KEY_FRAME_REQUEST_INTERVAL_MS = 500;

/** mediasoup 3.8's candidate plus `address`, the name newer mediasoup-client versions read. */
export type IceCandidate = ms.IceCandidate & { address: string };

export interface TransportParameters {
  id: string;
  iceParameters: ms.IceParameters;
  iceCandidates: IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
}

/** Where the SFU listens for a plain transport's RTP (and RTCP, unless multiplexed). */
export interface PlainTransportParameters {
  id: string;
  ip: string;
  port: number;
  /** null with rtcp-mux (RTCP on the RTP port). */
  rtcpPort: number | null;
}

export interface PlainTransportOptions {
  /** RTCP on the RTP port (default true). */
  rtcpMux?: boolean;
  /**
   * Learn the remote address from the first packet received (default: true for send, false for
   * recv, which needs connectPlainTransport to know where to send).
   */
  comedia?: boolean;
}

/** Where the SFU sends a plain recv transport's RTP. */
export interface PlainConnectParameters {
  ip: string;
  port: number;
  rtcpPort?: number;
}

type AnyTransport = ms.WebRtcTransport | ms.PlainTransport;

export interface ProduceOptions {
  transportId: string;
  kind: ms.MediaKind;
  rtpParameters: ms.RtpParameters;
  source: MediaSource;
}

/** Why media ended: closed by its owner, or lost with its worker. */
export type CloseReason = 'closed' | 'worker-died';

export interface ParticipantEvents {
  /** A consumer closed because its producer or transport went away (not by this participant). */
  consumerclosed: [consumerId: string];
  close: [reason: CloseReason];
}

/** Where a participant's media lives: a worker, and the meeting's router on it (opened on first use). */
export interface Placement {
  workerPid: number;
  router: Promise<ms.Router>;
}

/** The meeting around a participant; implemented by Meeting. */
export interface ParticipantHost {
  findProducer(producerId: string): ms.Producer | undefined;
  /** Called for each new producer, with the router it was produced on. */
  producerAdded(producer: ms.Producer, router: ms.Router): void;
  /** Whether a device with `rtpCapabilities` can decode `producer`. */
  canConsume(producer: ms.Producer, rtpCapabilities: ms.RtpCapabilities): boolean;
  /** Makes `producer` consumable on `router`: piped there if it was produced on another router. */
  pipeProducer(producer: ms.Producer, router: ms.Router): Promise<unknown>;
}

/**
 * One participant's media: its WebRTC transports and the producers and consumers on them.
 * Closing the participant closes its transports, which close everything on them.
 */
export class Participant extends EventEmitter<ParticipantEvents> {
  readonly transports = new Map<string, AnyTransport>();
  readonly producers = new Map<string, ms.Producer>();
  readonly consumers = new Map<string, ms.Consumer>();
  rtpCapabilities?: ms.RtpCapabilities;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly host: ParticipantHost,
    readonly placement: Placement,
    private readonly config: SfuConfig,
    private readonly logger: Logger,
  ) {
    super();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  setRtpCapabilities(rtpCapabilities: ms.RtpCapabilities): void {
    this.rtpCapabilities = rtpCapabilities;
  }

  async createTransport(direction: TransportDirection): Promise<TransportParameters> {
    this.assertNoTransport(direction);
    const router = await this.router();
    const transport = await router.createWebRtcTransport({
      listenIps: this.config.listenIps,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: this.config.initialAvailableOutgoingBitrate,
      appData: { participantId: this.id, direction, type: 'webrtc' },
    });
    if (this.closed) {
      transport.close();
      this.assertOpen();
    }
    if (direction === 'send' && this.config.maxIncomingBitrate > 0) {
      await transport.setMaxIncomingBitrate(this.config.maxIncomingBitrate);
    }
    this.track(transport);
    transport.on('dtlsstatechange', (state: ms.DtlsState) => {
      if (state === 'failed' || state === 'closed') {
        this.logger.warn({ transportId: transport.id, direction, dtlsState: state }, 'transport DTLS ended');
      }
    });
    return {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates.map((candidate) => ({ ...candidate, address: candidate.ip })),
      dtlsParameters: transport.dtlsParameters,
    };
  }

  /** A plain RTP transport (terminals, bridges, bots): one per direction, like WebRTC ones. */
  async createPlainTransport(direction: TransportDirection, options: PlainTransportOptions = {}): Promise<PlainTransportParameters> {
    this.assertNoTransport(direction);
    const listenIp = this.config.listenIps[0];
    if (!listenIp) throw new SfuError('INVALID_STATE', 'no listen address configured');
    const rtcpMux = options.rtcpMux ?? true;
    const router = await this.router();
    const transport = await router.createPlainTransport({
      listenIp,
      rtcpMux,
      comedia: options.comedia ?? direction === 'send',
      appData: { participantId: this.id, direction, type: 'plain' },
    });
    if (this.closed) {
      transport.close();
      this.assertOpen();
    }
    this.track(transport);
    return {
      id: transport.id,
      ip: listenIp.announcedIp ?? transport.tuple.localIp,
      port: transport.tuple.localPort,
      rtcpPort: transport.rtcpTuple?.localPort ?? null,
    };
  }

  async connectTransport(transportId: string, dtlsParameters: ms.DtlsParameters): Promise<void> {
    const transport = this.transport(transportId);
    if (!isWebRtc(transport)) throw new SfuError('INVALID_STATE', `transport ${transportId} is plain: connect it with an address`);
    await this.media(() => transport.connect({ dtlsParameters }));
  }

  /** Tells a plain transport where to send (recv) or expect (send without comedia) RTP. */
  async connectPlainTransport(transportId: string, remote: PlainConnectParameters): Promise<void> {
    const transport = this.transport(transportId);
    if (isWebRtc(transport)) throw new SfuError('INVALID_STATE', `transport ${transportId} is WebRTC: connect it with DTLS parameters`);
    await this.media(() => transport.connect(remote));
  }

  async restartIce(transportId: string): Promise<ms.IceParameters> {
    const transport = this.transport(transportId);
    if (!isWebRtc(transport)) throw new SfuError('INVALID_STATE', `transport ${transportId} is plain: it has no ICE`);
    return transport.restartIce();
  }

  async produce({ transportId, kind, rtpParameters, source }: ProduceOptions): Promise<ms.Producer> {
    const transport = this.transport(transportId, 'send');
    const duplicate = [...this.producers.values()].find((p) => (p.appData as ProducerAppData).source === source);
    if (duplicate) {
      throw new SfuError('INVALID_STATE', `${source} is being sent already (producer ${duplicate.id}); close it first`);
    }
    const appData: ProducerAppData = { participantId: this.id, source };
    // Many consumers asking for a key frame at once (a speaker switch, a join storm) make one
    // request to the sender per interval, not one each.
    const keyFrameRequestDelay = kind === 'video' ? KEY_FRAME_REQUEST_INTERVAL_MS : 0;
    const producer = await this.media(() => transport.produce({ kind, rtpParameters, appData, keyFrameRequestDelay }));
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
    this.host.producerAdded(producer, await this.router());
    return producer;
  }

  /**
   * Makes a producer created on this participant's router by someone else (an ingest job, a WHIP
   * publication) this participant's own: listed, consumable by the meeting, observed for audio.
   * The caller keeps closing it; it leaves the participant when it closes.
   */
  async adopt(producer: ms.Producer): Promise<void> {
    const router = await this.router();
    if (producer.closed) throw new SfuError('NOT_FOUND', `producer ${producer.id} closed before it was adopted`);
    this.producers.set(producer.id, producer);
    producer.observer.once('close', () => this.producers.delete(producer.id));
    this.host.producerAdded(producer, router);
  }

  /**
   * Carries a producer that lives on another router (a feed in the command centre) into this
   * participant's router and adopts the pipe producer, which keeps the producer's id and appData
   * and closes with it. Closing the returned producer takes the producer out of this meeting only.
   */
  async relay(producer: ms.Producer, from: ms.Router): Promise<ms.Producer> {
    const router = await this.router();
    const { pipeProducer } = await this.media(() => from.pipeToRouter({ producerId: producer.id, router }));
    await this.adopt(pipeProducer!);
    return pipeProducer!;
  }

  /** The router this participant's media live on (rejects if its worker died before it opened). */
  mediaRouter(): Promise<ms.Router> {
    return this.router();
  }

  producer(producerId: string): ms.Producer {
    const producer = this.producers.get(producerId);
    if (!producer) throw new SfuError('NOT_FOUND', `no producer ${producerId} of yours in this meeting`);
    return producer;
  }

  closeProducer(producerId: string): void {
    this.producer(producerId).close();
  }

  /**
   * Creates a paused consumer of another participant's producer on this participant's recv
   * transport, piping the producer to this participant's router first if it lives on another.
   */
  async consume(producerId: string): Promise<ms.Consumer> {
    this.assertOpen();
    if (!this.rtpCapabilities) {
      throw new SfuError('INVALID_STATE', 'send setRtpCapabilities before consume');
    }
    const producer = this.host.findProducer(producerId);
    if (!producer) throw new SfuError('NOT_FOUND', `no producer ${producerId} in this meeting`);
    if ((producer.appData as ProducerAppData).participantId === this.id) {
      throw new SfuError('INVALID_STATE', 'a participant does not consume its own producer; use the local track');
    }
    const transport = [...this.transports.values()].find((t) => t.appData.direction === 'recv');
    if (!transport) throw new SfuError('INVALID_STATE', 'create a recv transport before consume');
    if (!this.host.canConsume(producer, this.rtpCapabilities)) {
      throw new SfuError('UNSUPPORTED', `this device cannot decode ${producer.kind} producer ${producerId} (no common codec)`);
    }
    await this.media(async () => this.host.pipeProducer(producer, await this.router()));
    if (producer.closed) throw new SfuError('NOT_FOUND', `producer ${producerId} closed while being consumed`);
    const consumer = await this.media(() =>
      transport.consume({ producerId, rtpCapabilities: this.rtpCapabilities!, paused: true, appData: producer.appData }),
    );
    this.consumers.set(consumer.id, consumer);
    consumer.observer.once('close', () => this.consumers.delete(consumer.id));
    const closedByServer = (): void => {
      consumer.close();
      this.emit('consumerclosed', consumer.id);
    };
    consumer.on('producerclose', closedByServer);
    return consumer;
  }

  consumer(consumerId: string): ms.Consumer {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) throw new SfuError('NOT_FOUND', `no consumer ${consumerId} of yours`);
    return consumer;
  }

  async setPreferredLayers(consumerId: string, layers: ms.ConsumerLayers): Promise<void> {
    const consumer = this.consumer(consumerId);
    if (consumer.type !== 'simulcast' && consumer.type !== 'svc') {
      throw new SfuError('INVALID_STATE', `consumer ${consumerId} is ${consumer.type}: it has no layers to choose`);
    }
    await consumer.setPreferredLayers(layers);
  }

  /** Closes the participant's media; 'worker-died' tells its owner to have the client join again. */
  close(reason: CloseReason = 'closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const transport of this.transports.values()) transport.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
    this.emit('close', reason);
  }

  private assertNoTransport(direction: TransportDirection): void {
    this.assertOpen();
    const existing = [...this.transports.values()].find((t) => t.appData.direction === direction);
    if (existing) {
      throw new SfuError('INVALID_STATE', `a ${direction} transport exists already (${existing.id}); reuse it`);
    }
  }

  private track(transport: AnyTransport): void {
    this.transports.set(transport.id, transport);
    transport.observer.once('close', () => this.transports.delete(transport.id));
  }

  private transport(transportId: string, direction?: TransportDirection): AnyTransport {
    this.assertOpen();
    const transport = this.transports.get(transportId);
    if (!transport) throw new SfuError('NOT_FOUND', `no transport ${transportId} of yours`);
    if (direction && transport.appData.direction !== direction) {
      throw new SfuError('INVALID_STATE', `transport ${transportId} is a ${transport.appData.direction} transport, not ${direction}`);
    }
    return transport;
  }

  /** This participant's router; a router that could not open (its worker died) fails the call. */
  private async router(): Promise<ms.Router> {
    const router = await this.media(() => this.placement.router);
    this.assertOpen();
    return router;
  }

  private assertOpen(): void {
    if (this.closed) throw new SfuError('INVALID_STATE', `participant ${this.id} has left`);
  }

  /** Runs a mediasoup call on caller-supplied parameters: its failures are the caller's to fix. */
  private async media<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof SfuError) throw error;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof mediasoup.types.UnsupportedError) throw new SfuError('UNSUPPORTED', message);
      if (error instanceof mediasoup.types.InvalidStateError) throw new SfuError('INVALID_STATE', message);
      throw new SfuError('MEDIA_ERROR', message);
    }
  }
}

function isWebRtc(transport: AnyTransport): transport is ms.WebRtcTransport {
  return transport.appData.type !== 'plain';
}
