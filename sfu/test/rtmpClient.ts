// A hand-driven RTMP client for what ffmpeg will not do: stall, flood, misbehave.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { decodeAmf0, encodeAmf0, type AmfValue } from '../src/bridge/rtmp/amf0.js';
import { ChunkReader, ChunkWriter, MessageType } from '../src/bridge/rtmp/chunkStream.js';

const HANDSHAKE_SIZE = 1536;
const COMMAND_CSID = 3;
const MEDIA_CSID = 6;

export class RawRtmpClient {
  /** Resolves when the server (or we) closed the socket. */
  readonly closed: Promise<void>;
  private readonly reader = new ChunkReader();
  private readonly writer = new ChunkWriter();
  private received: Buffer = Buffer.alloc(0);
  private handshaken = false;
  private readonly commands: AmfValue[][] = [];
  private wake?: () => void;

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => this.wake?.());
    socket.on('error', () => undefined); // a reset by the server shows as `closed`
    socket.on('data', (data) => this.onData(data));
  }

  static open(port: number): Promise<RawRtmpClient> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new RawRtmpClient(socket)));
      socket.once('error', reject);
    });
  }

  /** C0+C1, waits for S0+S1+S2, sends C2. */
  async handshake(): Promise<void> {
    this.socket.write(Buffer.concat([Buffer.of(3), randomBytes(HANDSHAKE_SIZE)]));
    await this.until(() => this.received.length >= 1 + 2 * HANDSHAKE_SIZE);
    const s1 = this.received.subarray(1, 1 + HANDSHAKE_SIZE);
    const rest = this.received.subarray(1 + 2 * HANDSHAKE_SIZE);
    this.handshaken = true;
    this.socket.write(s1);
    if (rest.length > 0) this.readMessages(rest);
  }

  /** Handshake, connect, createStream, publish: the server's answer to publish (onStatus info object). */
  async publish(app: string, streamKey: string): Promise<Record<string, AmfValue>> {
    await this.handshake();
    this.setChunkSize(65536);
    this.command(0, 'connect', 1, { app, tcUrl: `rtmp://127.0.0.1/${app}`, type: 'nonprivate' });
    await this.nextCommand();
    this.command(0, 'createStream', 2, null);
    await this.nextCommand();
    this.command(1, 'publish', 3, null, streamKey, 'live');
    const [, , , info] = await this.nextCommand();
    return info as Record<string, AmfValue>;
  }

  setChunkSize(size: number): void {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(size);
    this.socket.write(this.writer.chunks(2, { typeId: MessageType.SetChunkSize, streamId: 0, timestamp: 0, payload }));
    this.writer.setChunkSize(size);
  }

  command(streamId: number, ...values: AmfValue[]): void {
    this.message(MessageType.CommandAmf0, streamId, 0, encodeAmf0(...values), COMMAND_CSID);
  }

  message(typeId: number, streamId: number, timestamp: number, payload: Buffer, csid = MEDIA_CSID): void {
    if (!this.socket.destroyed) this.socket.write(this.writer.chunks(csid, { typeId, streamId, timestamp, payload }));
  }

  /** The next command the server sent (`_result`, `_error`, `onStatus`), as its AMF0 values. */
  async nextCommand(): Promise<AmfValue[]> {
    await this.until(() => this.commands.length > 0);
    return this.commands.shift()!;
  }

  private onData(data: Buffer): void {
    if (this.handshaken) this.readMessages(data);
    else this.received = Buffer.concat([this.received, data]);
    this.wake?.();
  }

  private readMessages(data: Buffer): void {
    this.reader.push(data);
    for (let message = this.reader.next(); message; message = this.reader.next()) {
      if (message.typeId === MessageType.CommandAmf0) this.commands.push(decodeAmf0(message.payload));
    }
  }

  private async until(condition: () => boolean): Promise<void> {
    while (!condition()) {
      if (this.socket.destroyed) throw new Error('the server closed the connection');
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
