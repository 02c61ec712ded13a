import { createSocket, type Socket } from 'node:dgram';
import type { ListenIp, mediasoupTypes as ms } from '@cityconf/sfu';
import { isRtp, ssrcOf } from './rtp.js';

const LOOPBACK = '127.0.0.1';

/** Makes a producer of another router consumable on `router` (Meeting.pipeProducer). */
export type PipeProducer = (producer: ms.Producer, router: ms.Router) => Promise<unknown>;

/**
 * Consumers of a router's producers delivering their RTP to Node: one plain transport (rtcp-mux)
 * sending to one loopback socket, packets told apart by the consumer's SSRC.
 */
export class ConsumerTap {
  private readonly handlers = new Map<number, (packet: Buffer) => void>();

  private constructor(
    private readonly router: ms.Router,
    private readonly transport: ms.PlainTransport,
    private readonly socket: Socket,
    private readonly pipeProducer: PipeProducer | undefined,
  ) {
    socket.on('message', (packet) => {
      if (isRtp(packet)) this.handlers.get(ssrcOf(packet))?.(packet);
    });
  }

  static async open(router: ms.Router, listenIp: ListenIp, appData: Record<string, unknown>, pipeProducer?: PipeProducer): Promise<ConsumerTap> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, LOOPBACK, resolve));
    try {
      const transport = await router.createPlainTransport({ listenIp, rtcpMux: true, comedia: false, appData });
      await transport.connect({ ip: LOOPBACK, port: socket.address().port });
      return new ConsumerTap(router, transport, socket, pipeProducer);
    } catch (error) {
      socket.close();
      throw error;
    }
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  /** A consumer of `producer` whose RTP goes to `onPacket` until it closes. */
  async consume(producer: ms.Producer, onPacket: (packet: Buffer) => void): Promise<ms.Consumer> {
    await this.pipeProducer?.(producer, this.router);
    const { codecs = [] } = this.router.rtpCapabilities;
    const rtpCapabilities = { codecs: codecs.filter((codec) => !/\/rtx$/i.test(codec.mimeType)), headerExtensions: [] };
    const consumer = await this.transport.consume({ producerId: producer.id, rtpCapabilities });
    const ssrc = consumer.rtpParameters.encodings![0]!.ssrc!;
    this.handlers.set(ssrc, onPacket);
    consumer.observer.once('close', () => this.handlers.delete(ssrc));
    return consumer;
  }

  close(): void {
    this.transport.close();
    this.socket.close();
  }
}
