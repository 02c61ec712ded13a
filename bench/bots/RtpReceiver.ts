// The bots' receiving side: UDP sockets the SFU's plain recv transports send to (one per bot, or one
// per group of bots), and a counter per consumer SSRC that detects loss from sequence-number gaps.
import { createSocket, type Socket } from 'node:dgram';

/** mediasoup's bandwidth probation padding (PT 127) comes on this SSRC: not media. */
const PROBATION_SSRC = 1234;

/** What one consumer delivered to one bot. */
export class StreamCounter {
  packets = 0;
  /** performance.now() of the first packet, or undefined. */
  firstAtMs: number | undefined;
  private baseSequence = 0;
  private highestSequence = 0;

  constructor(
    readonly botIndex: number,
    readonly kind: 'audio' | 'video',
    /** The participant whose producer this consumes. */
    readonly sourceParticipantId: string,
  ) {}

  record(sequence: number, nowMs: number): void {
    if (this.packets++ === 0) {
      this.firstAtMs = nowMs;
      this.baseSequence = this.highestSequence = sequence;
      return;
    }
    const ahead = (sequence - this.highestSequence) & 0xffff;
    if (ahead < 0x8000) this.highestSequence += ahead; // extended sequence number; older packets are reordered or repeated
  }

  /** Packets the sequence numbers say were sent between the first and the highest received. */
  get expected(): number {
    return this.packets === 0 ? 0 : this.highestSequence - this.baseSequence + 1;
  }

  get lost(): number {
    return Math.max(0, this.expected - this.packets);
  }
}

export class RtpReceiver {
  /** RTP packets received on every socket since creation. */
  packetsReceived = 0;
  /** RTP packets for an SSRC no bot consumes. */
  unknownPackets = 0;
  readonly counters: StreamCounter[] = [];
  private readonly bySsrc = new Map<number, StreamCounter>();
  private readonly sockets: Socket[] = [];

  /** A new receiving socket (the SFU sends RTP and RTCP to it: rtcp-mux); returns its port. */
  async openSocket(): Promise<number> {
    const socket = createSocket('udp4');
    socket.on('message', (message) => this.onPacket(message));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    socket.setRecvBufferSize(4 * 2 ** 20);
    this.sockets.push(socket);
    return socket.address().port;
  }

  get ports(): number[] {
    return this.sockets.map((socket) => socket.address().port);
  }

  /** Counts what arrives with `ssrc` (a consumer's `rtpParameters.encodings[0].ssrc`) for a bot. */
  track(ssrc: number, counter: StreamCounter): void {
    this.bySsrc.set(ssrc, counter);
    this.counters.push(counter);
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
  }

  private onPacket(message: Buffer): void {
    if (message.length < 12 || (message[1]! >= 200 && message[1]! <= 206)) return; // RTCP (rtcp-mux)
    const ssrc = message.readUInt32BE(8);
    if (ssrc === PROBATION_SSRC) return;
    const counter = this.bySsrc.get(ssrc);
    if (!counter) {
      this.unknownPackets++;
      return;
    }
    this.packetsReceived++;
    counter.record(message.readUInt16BE(2), performance.now());
  }
}
