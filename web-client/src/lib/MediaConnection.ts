// One joined session on the server: the signaling connection, the mediasoup-client Device, the send
// and receive transports, and the producers and consumers on them. It owns all of these, and
// close() closes every one of them. It keeps no meeting state and touches no DOM: MeetingSession
// decides what to publish and consume.
import { Device } from 'mediasoup-client';
import type { types } from 'mediasoup-client';
import type { JoinReply, MediaSource, TransportReply } from '@cityconf/signaling/protocol';
import type { TransportSample } from './connectionQuality';
import { log } from './log';
import type { VideoCodec } from './route';
import { SignalingClient, SignalingError } from './signaling';

export interface ConsumerAppData extends types.AppData {
  participantId: string;
  source: MediaSource;
}

export interface InboundStats {
  participantId: string;
  kind: 'audio' | 'video';
  source: MediaSource;
  framesDecoded: number;
  packetsReceived: number;
  bytesReceived: number;
}

/** Simulcast layers from quarter to full resolution. */
const CAMERA_ENCODINGS: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 100_000 },
  { scaleResolutionDownBy: 2, maxBitrate: 300_000 },
  { scaleResolutionDownBy: 1, maxBitrate: 900_000 },
];

/**
 * A shared screen is mostly text and drawings: one full-resolution stream (low layers of a 1080p
 * slide are unreadable), sent at a low frame rate (getDisplayMedia asks for 15 fps at most).
 */
const SCREEN_ENCODINGS: types.RtpEncodingParameters[] = [{ maxBitrate: 2_500_000 }];

/** How long an ICE restart may take before the transport counts as failed (and the session rejoins). */
const ICE_RESTART_TIMEOUT_MS = 6_000;

/**
 * The camera's simulcast layers, as many as its resolution supports. Chrome sends fewer layers
 * than asked for small pictures (3 from 960×540, 2 from 480×270) and keeps the lowest ones, so a
 * 320×240 camera given 3 encodings would reach everyone at 80×60: ask for the top layers only.
 */
function cameraEncodings(track: MediaStreamTrack): types.RtpEncodingParameters[] {
  const { width = 1280, height = 720 } = track.getSettings();
  const pixels = width * height;
  const layers = pixels >= 960 * 540 ? 3 : pixels >= 480 * 270 ? 2 : 1;
  return CAMERA_ENCODINGS.slice(CAMERA_ENCODINGS.length - layers);
}

export class MediaConnection {
  readonly signaling: SignalingClient;
  private readonly device = new Device();
  private sendTransport: types.Transport | null = null;
  private recvTransport: types.Transport | null = null;
  private readonly producers = new Map<MediaSource, types.Producer>();
  private readonly consumers = new Map<string, types.Consumer<ConsumerAppData>>();
  /** Consumers the server closed before their consume request finished here. */
  private readonly consumersClosedEarly = new Set<string>();
  private readonly failureHandlers = new Set<(direction: 'send' | 'recv') => void>();
  private readonly iceRestartHandlers = new Set<(restarting: boolean) => void>();
  /** Transports restarting ICE, each with the timer that gives up on it. */
  private readonly iceRestarts = new Map<types.Transport, ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    private readonly videoCodec: VideoCodec = 'vp8',
    signaling = new SignalingClient(),
  ) {
    this.signaling = signaling;
  }

  /**
   * Called with true when a transport lost its network path and restarts ICE, and with false once
   * no transport is restarting any more (recovered, or given up: then onTransportFailed follows).
   */
  onIceRestart(handler: (restarting: boolean) => void): void {
    this.iceRestartHandlers.add(handler);
  }

  /** Called when a transport's connection fails for good, ICE restart included (not after close()). */
  onTransportFailed(handler: (direction: 'send' | 'recv') => void): void {
    this.failureHandlers.add(handler);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get canReceive(): boolean {
    return this.recvTransport !== null && !this.closed;
  }

  /** join → load the Device with the router's capabilities → tell the server ours. */
  async join(meetingId: string, token: string): Promise<JoinReply> {
    const reply = await this.signaling.request('join', { meetingId, token });
    try {
      await this.device.load({
        routerRtpCapabilities: reply.routerRtpCapabilities as types.RtpCapabilities,
      });
    } catch (error) {
      throw new SignalingError('UNSUPPORTED', `cannot load the media device: ${String(error)}`);
    }
    const { codecs = [], headerExtensions } = this.device.rtpCapabilities;
    await this.signaling.request('setRtpCapabilities', { rtpCapabilities: { codecs, headerExtensions } });
    return reply;
  }

  async createSendTransport(): Promise<void> {
    const options = await this.signaling.request('createTransport', { direction: 'send' });
    this.assertOpen();
    const transport = this.device.createSendTransport(transportOptions(options));
    this.handleConnect(transport);
    transport.on('produce', ({ kind, rtpParameters, appData }, callback, errback) => {
      const source = appData.source as MediaSource;
      this.signaling
        .request('produce', { transportId: transport.id, kind, rtpParameters, source })
        .then(callback, errback);
    });
    this.sendTransport = transport;
  }

  async createRecvTransport(): Promise<void> {
    const options = await this.signaling.request('createTransport', { direction: 'recv' });
    this.assertOpen();
    const transport = this.device.createRecvTransport(transportOptions(options));
    this.handleConnect(transport);
    this.recvTransport = transport;
  }

  canProduce(kind: 'audio' | 'video'): boolean {
    return this.device.loaded && this.device.canProduce(kind);
  }

  hasProducer(source: MediaSource): boolean {
    return this.producers.has(source);
  }

  /** Publishes a track that the caller owns: closing the producer leaves the track running. */
  async produce(source: MediaSource, track: MediaStreamTrack, paused: boolean): Promise<void> {
    const transport = this.sendTransport;
    if (!transport) throw new SignalingError('INVALID_STATE', 'no send transport');
    const producer = await transport.produce({
      track,
      encodings: source === 'camera' ? cameraEncodings(track) : source === 'screen' ? SCREEN_ENCODINGS : undefined,
      codec: source === 'camera' ? this.cameraCodec() : undefined,
      codecOptions: source === 'microphone' ? { opusFec: true } : { videoGoogleStartBitrate: 1000 },
      stopTracks: false,
      disableTrackOnPause: false,
      appData: { source },
    });
    if (this.closed) {
      producer.close();
      return;
    }
    this.producers.set(source, producer);
    if (paused) await this.setProducerPaused(source, true);
  }

  /** H.264 when asked for and both ends support packetization-mode 1; else mediasoup-client's choice (VP8). */
  private cameraCodec(): types.RtpCodecCapability | undefined {
    if (this.videoCodec !== 'h264') return undefined;
    const h264 = this.device.rtpCapabilities.codecs?.find(
      (codec) => codec.mimeType.toLowerCase() === 'video/h264' && codec.parameters?.['packetization-mode'] === 1,
    );
    if (!h264) log.warn('h264 unavailable, sending the default codec');
    return h264;
  }

  /** Sends `track` on the producer of `source` in place of its current one: same producer id. */
  async replaceTrack(source: MediaSource, track: MediaStreamTrack): Promise<void> {
    await this.producers.get(source)?.replaceTrack({ track });
  }

  async setProducerPaused(source: MediaSource, paused: boolean): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    if (paused) {
      producer.pause();
      await this.signaling.request('pauseProducer', { producerId: producer.id });
    } else {
      producer.resume();
      await this.signaling.request('resumeProducer', { producerId: producer.id });
    }
  }

  /**
   * The server's videoDemand hint: nobody shows this producer (wanted false), so its encodings stop
   * — the local preview and the producer stay, and others do not see the camera as off — until
   * someone shows it again.
   */
  async setSendingWanted(producerId: string, wanted: boolean): Promise<void> {
    const producer = [...this.producers.values()].find((candidate) => candidate.id === producerId);
    if (!producer || producer.closed || producer.kind !== 'video') return;
    await producer.setRtpEncodingParameters({ active: wanted });
  }

  /** Stops sending `source` for good (e.g. screen sharing ended); the caller owns the track. */
  async closeProducer(source: MediaSource): Promise<void> {
    const producer = this.producers.get(source);
    if (!producer) return;
    this.producers.delete(source);
    producer.close();
    await this.signaling.request('closeProducer', { producerId: producer.id });
  }

  /**
   * consume (created paused on the server) → local consumer → resumeConsumer, unless `paused`:
   * then it stays paused until setConsumerPaused(id, false).
   */
  async consume(producerId: string, { paused = false } = {}): Promise<types.Consumer<ConsumerAppData>> {
    const transport = this.recvTransport;
    if (!transport) throw new SignalingError('INVALID_STATE', 'no receive transport');
    const reply = await this.signaling.request('consume', { producerId });
    const consumer = await transport.consume<ConsumerAppData>({
      id: reply.id,
      producerId: reply.producerId,
      kind: reply.kind,
      rtpParameters: reply.rtpParameters as types.RtpParameters,
      appData: { participantId: reply.participantId, source: reply.source },
    });
    if (this.closed || this.consumersClosedEarly.delete(consumer.id)) {
      consumer.close();
      throw new SignalingError('NOT_FOUND', `consumer ${consumer.id} was closed`);
    }
    this.consumers.set(consumer.id, consumer);
    if (paused) {
      consumer.pause();
      return consumer;
    }
    try {
      await this.signaling.request('resumeConsumer', { consumerId: consumer.id });
    } catch (error) {
      this.closeConsumer(consumer.id);
      throw error;
    }
    return consumer;
  }

  /** Pauses or resumes a consumer here and on the server (a paused one costs no bandwidth or decoder). */
  async setConsumerPaused(consumerId: string, paused: boolean): Promise<void> {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) return;
    if (paused) {
      consumer.pause();
      await this.signaling.request('pauseConsumer', { consumerId });
    } else {
      await this.signaling.request('resumeConsumer', { consumerId });
      consumer.resume();
    }
  }

  /** Whether the consumer's producer sends simulcast layers to choose from (setConsumerLayer). */
  hasLayers(consumerId: string): boolean {
    const mode = this.consumers.get(consumerId)?.rtpParameters.encodings?.[0]?.scalabilityMode ?? '';
    return Number(/^S(\d+)/.exec(mode)?.[1] ?? 1) > 1;
  }

  /**
   * Asks the server for a simulcast layer (0 = lowest); consumers without layers are left as they
   * are. The layer is also the priority: when bandwidth is short, the large tile keeps its quality
   * and thumbnails give way.
   */
  async setConsumerLayer(consumerId: string, spatialLayer: number): Promise<void> {
    if (!this.hasLayers(consumerId)) return;
    await this.signaling.request('setPreferredLayers', { consumerId, spatialLayer, priority: 1 + spatialLayer });
  }

  /** Stops receiving: closes the consumer here and on the server (consume again to resume). */
  async releaseConsumer(consumerId: string): Promise<void> {
    this.closeConsumer(consumerId);
    try {
      await this.signaling.request('closeConsumer', { consumerId });
    } catch (error) {
      if (!(error instanceof SignalingError && error.code === 'NOT_FOUND')) throw error;
    }
  }

  closeConsumer(consumerId: string): void {
    const consumer = this.consumers.get(consumerId);
    if (!consumer) {
      this.consumersClosedEarly.add(consumerId);
      return;
    }
    consumer.close();
    this.consumers.delete(consumerId);
  }

  /** inbound-rtp counters of every consumer, summed per consumer. */
  async inboundStats(): Promise<InboundStats[]> {
    const consumers = [...this.consumers.values()].filter((consumer) => !consumer.closed);
    return Promise.all(
      consumers.map(async (consumer) => {
        const totals: InboundStats = {
          participantId: consumer.appData.participantId,
          kind: consumer.kind,
          source: consumer.appData.source,
          framesDecoded: 0,
          packetsReceived: 0,
          bytesReceived: 0,
        };
        const report = await consumer.getStats();
        report.forEach((stats: Record<string, unknown>) => {
          if (stats.type !== 'inbound-rtp') return;
          totals.framesDecoded += numberOr0(stats.framesDecoded);
          totals.packetsReceived += numberOr0(stats.packetsReceived);
          totals.bytesReceived += numberOr0(stats.bytesReceived);
        });
        return totals;
      }),
    );
  }

  /** Round-trip time, packet and byte counters of both transports now (connectionQuality.readQuality). */
  async transportSample(): Promise<TransportSample> {
    const sample: TransportSample = { atMs: performance.now(), rttMs: null, packetsLost: 0, packetsReceived: 0, bytesReceived: 0, bytesSent: 0 };
    const transports = [this.sendTransport, this.recvTransport].filter((transport) => transport && !transport.closed);
    const reports = await Promise.all(transports.map((transport) => transport!.getStats()));
    for (const report of reports) {
      report.forEach((stats: Record<string, unknown>) => {
        if (stats.type === 'candidate-pair' && stats.nominated === true && typeof stats.currentRoundTripTime === 'number') {
          sample.rttMs = Math.max(sample.rttMs ?? 0, Math.round(stats.currentRoundTripTime * 1000));
        } else if (stats.type === 'inbound-rtp') {
          sample.packetsLost += numberOr0(stats.packetsLost);
          sample.packetsReceived += numberOr0(stats.packetsReceived);
          sample.bytesReceived += numberOr0(stats.bytesReceived);
        } else if (stats.type === 'outbound-rtp') {
          sample.bytesSent += numberOr0(stats.bytesSent);
        }
      });
    }
    return sample;
  }

  /** Closes everything; `farewell` sends `leave` first without waiting (the page is going away). */
  close({ farewell = false } = {}): void {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.iceRestarts.values()) clearTimeout(timer);
    this.iceRestarts.clear();
    if (farewell) this.signaling.notify('leave', {});
    for (const consumer of this.consumers.values()) consumer.close();
    for (const producer of this.producers.values()) producer.close();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.consumers.clear();
    this.producers.clear();
    this.signaling.close();
  }

  private handleConnect(transport: types.Transport): void {
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.signaling
        .request('connectTransport', { transportId: transport.id, dtlsParameters })
        .then(() => callback(), errback);
    });
    transport.on('connectionstatechange', (state) => {
      if (this.closed) return;
      if (state === 'connected') this.iceRestartEnded(transport, 'recovered');
      else if (state === 'disconnected' || state === 'failed') void this.restartIce(transport);
    });
  }

  /** The network path is lost while signaling may still be up: new ICE credentials from the server, then a new path. */
  private async restartIce(transport: types.Transport): Promise<void> {
    if (this.iceRestarts.has(transport)) return;
    log.warn('ice-restart', { direction: transport.direction, transportId: transport.id });
    this.iceRestarts.set(transport, setTimeout(() => this.iceRestartEnded(transport, 'failed'), ICE_RESTART_TIMEOUT_MS));
    for (const handler of this.iceRestartHandlers) handler(true);
    try {
      const { iceParameters } = await this.signaling.request('restartIce', { transportId: transport.id }, { timeoutMs: ICE_RESTART_TIMEOUT_MS });
      if (!this.closed && !transport.closed) await transport.restartIce({ iceParameters });
    } catch (error) {
      if (this.closed) return;
      log.warn('ice-restart-failed', { direction: transport.direction, error: String(error) });
      this.iceRestartEnded(transport, 'failed');
    }
  }

  private iceRestartEnded(transport: types.Transport, outcome: 'recovered' | 'failed'): void {
    const timer = this.iceRestarts.get(transport);
    if (timer === undefined || this.closed) return;
    clearTimeout(timer);
    this.iceRestarts.delete(transport);
    log.info('ice-restart-ended', { direction: transport.direction, outcome });
    if (outcome === 'failed') for (const handler of this.failureHandlers) handler(transport.direction);
    if (this.iceRestarts.size === 0) for (const handler of this.iceRestartHandlers) handler(false);
  }

  private assertOpen(): void {
    if (this.closed) throw new SignalingError('DISCONNECTED', 'connection closed');
  }
}

function transportOptions(reply: TransportReply): types.TransportOptions {
  return {
    id: reply.id,
    iceParameters: reply.iceParameters,
    iceCandidates: reply.iceCandidates,
    dtlsParameters: reply.dtlsParameters as types.DtlsParameters,
  };
}

function numberOr0(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}
