import { EventEmitter } from 'node:events';
import mediasoup, { type types as ms } from 'mediasoup';
import type { Logger } from 'pino';
import type { ListenIp } from '../config.js';
import { KEY_FRAME_REQUEST_INTERVAL_MS, type ProducerAppData } from '../Participant.js';
import { writeWhipAnswer } from './whipAnswer.js';
import { parseWhipOffer, WhipOfferError } from './whipOffer.js';

/** How long a publisher may go without sending anything, or stay ICE-disconnected, before it is gone (ms). */
export const WHIP_DISCONNECT_TIMEOUT_MS = 15_000;

/**
 * Why a publication ended: closed by its owner (DELETE), the publisher closed DTLS, DTLS failed,
 * the publisher vanished (silent or ICE-disconnected for the timeout), or the router closed.
 */
export type WhipCloseReason = 'closed' | 'dtls-closed' | 'dtls-failed' | 'disconnected' | 'router-closed';

export interface WhipPublicationEvents {
  closed: [reason: WhipCloseReason];
}

export interface WhipPublicationOptions {
  router: ms.Router;
  /** The SDP offer of the WHIP POST. */
  offer: string;
  listenIps: ListenIp[];
  participantId: string;
  logger: Logger;
  initialAvailableOutgoingBitrate?: number;
  /** Cap on what the publisher may send (bps); 0 or unset leaves it unlimited. */
  maxIncomingBitrate?: number;
  /** Default WHIP_DISCONNECT_TIMEOUT_MS. */
  disconnectTimeoutMs?: number;
}

/**
 * One WHIP (RFC 9725) publisher: a WebRTC transport on the router, bundling all its media, and a
 * producer per accepted m-line (appData: participantId, and camera or microphone). It owns the
 * transport, which owns the producers; close() or a publisher that goes away closes them all.
 */
export class WhipPublication extends EventEmitter<WhipPublicationEvents> {
  private readonly watchdog: NodeJS.Timeout;
  private lastBytesReceived = 0;
  private lastHeardAt = Date.now();
  private disconnectedSince?: number;
  private ended = false;

  private constructor(
    readonly transport: ms.WebRtcTransport,
    readonly producers: ms.Producer[],
    /** The SDP answer: the body of the 201 response. */
    readonly answer: string,
    private readonly disconnectTimeoutMs: number,
    private readonly logger: Logger,
  ) {
    super();
    transport.on('dtlsstatechange', (state: ms.DtlsState) => {
      if (state === 'closed' || state === 'failed') this.end(state === 'closed' ? 'dtls-closed' : 'dtls-failed');
    });
    transport.on('icestatechange', (state: ms.IceState) => {
      this.disconnectedSince = state === 'disconnected' ? Date.now() : undefined;
    });
    transport.on('routerclose', () => this.end('router-closed'));
    transport.observer.once('close', () => this.end('closed'));
    this.watchdog = setInterval(() => void this.checkAlive(), Math.min(1000, disconnectTimeoutMs / 4));
  }

  /**
   * Answers `offer` with a transport and producers on `router`. Throws WhipOfferError for an offer
   * it cannot take, having opened nothing.
   */
  static async create(options: WhipPublicationOptions): Promise<WhipPublication> {
    const { router, participantId } = options;
    const offer = parseWhipOffer(options.offer, router.rtpCapabilities);
    const logger = options.logger.child({ participantId, whip: true });
    const transport = await router.createWebRtcTransport({
      listenIps: options.listenIps,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: options.initialAvailableOutgoingBitrate,
      appData: { participantId, direction: 'send', type: 'whip' },
    });
    try {
      if (options.maxIncomingBitrate) await transport.setMaxIncomingBitrate(options.maxIncomingBitrate);
      await offerFault('the DTLS parameters', () => transport.connect({ dtlsParameters: offer.dtlsParameters }));
      const producers: ms.Producer[] = [];
      for (const media of offer.media) {
        if (!media.accepted) continue;
        const appData: ProducerAppData = { participantId, source: media.kind === 'video' ? 'camera' : 'microphone' };
        const producer = await offerFault(`the ${media.kind} m-line (mid ${media.mid})`, () =>
          transport.produce({
            kind: media.kind,
            rtpParameters: media.rtpParameters,
            appData,
            keyFrameRequestDelay: media.kind === 'video' ? KEY_FRAME_REQUEST_INTERVAL_MS : 0,
          }),
        );
        producers.push(producer);
      }
      const answer = writeWhipAnswer(offer, transport);
      const publication = new WhipPublication(transport, producers, answer, options.disconnectTimeoutMs ?? WHIP_DISCONNECT_TIMEOUT_MS, logger);
      logger.info(
        { transportId: transport.id, producers: producers.map(({ id, kind, rtpParameters }) => ({ id, kind, codec: rtpParameters.codecs[0]?.mimeType })) },
        'whip publication created',
      );
      return publication;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /** The WHIP resource's entity tag: it names this ICE session. */
  get etag(): string {
    return `"${this.transport.iceParameters.usernameFragment}"`;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Closes the transport and its producers (the WHIP DELETE). */
  close(): void {
    this.end('closed');
  }

  private end(reason: WhipCloseReason): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.watchdog);
    this.transport.close();
    this.logger.info({ transportId: this.transport.id, reason }, 'whip publication closed');
    this.emit('closed', reason);
  }

  /**
   * mediasoup 3.8 has no ICE consent checks: a UDP publisher that vanishes leaves ICE connected,
   * so silence for the timeout counts as gone too.
   */
  private async checkAlive(): Promise<void> {
    const now = Date.now();
    let bytesReceived: number;
    try {
      [{ bytesReceived = 0 } = {}] = await this.transport.getStats();
    } catch {
      return; // the transport closed meanwhile: its events end the publication
    }
    if (bytesReceived > this.lastBytesReceived) {
      this.lastBytesReceived = bytesReceived;
      this.lastHeardAt = now;
    }
    const silent = now - this.lastHeardAt >= this.disconnectTimeoutMs;
    const disconnected = this.disconnectedSince !== undefined && now - this.disconnectedSince >= this.disconnectTimeoutMs;
    if (silent || disconnected) this.end('disconnected');
  }
}

/** Runs a mediasoup call on what the offer said: mediasoup refusing it is the offer's fault. */
async function offerFault<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof mediasoup.types.UnsupportedError || error instanceof TypeError) {
      throw new WhipOfferError(422, `${what} of the offer cannot be received: ${error.message}`);
    }
    throw error;
  }
}
