import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { amf0StringLength, decodeAmf0, encodeAmf0, type AmfObject, type AmfValue } from './amf0.js';
import { ChunkReader, ChunkWriter, MessageType, type RtmpMessage } from './chunkStream.js';
import { ServerHandshake } from './handshake.js';
import { RtmpProtocolError } from './RtmpProtocolError.js';
import { RtmpPublisher, type RtmpCloseReason } from './RtmpPublisher.js';

/** Decides a publish: null accepts it, a string refuses it and is the reason the publisher is told. */
export type RtmpAuthorize = (request: { app: string; streamKey: string; remoteAddress: string }) => string | null | Promise<string | null>;

export interface RtmpConnectionOptions {
  /** The one application name publishers may connect to. */
  app: string;
  authorize: RtmpAuthorize;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  logger: Logger;
  onPublish: (publisher: RtmpPublisher) => void;
}

/** Our window acknowledgement size and the peer bandwidth we ask for (bytes), as common servers send. */
const WINDOW_SIZE = 2_500_000;
const OUTGOING_CHUNK_SIZE = 4096;
/** The stream createStream hands out: one publish per connection. */
const PUBLISH_STREAM_ID = 1;
/** A refused client gets this long to read why before its socket is destroyed (ms). */
const REFUSAL_LINGER_MS = 1000;
const enum Csid {
  Control = 2,
  Command = 3,
  Status = 5,
}
const enum UserControlEvent {
  StreamBegin = 0,
  PingRequest = 6,
  PingResponse = 7,
}
const SET_PEER_BANDWIDTH_DYNAMIC = 2;
/** Commands that end a publish; the client closes the connection after them. */
const UNPUBLISH_COMMANDS = new Set(['FCUnpublish', 'deleteStream', 'closeStream']);

/**
 * One client's TCP connection, from the handshake to its close: reads the chunk stream, answers
 * commands, asks `authorize` about a publish and, once accepted, owns the RtmpPublisher that
 * media goes to. Whatever the client sends, a fault closes this connection alone, with a reason
 * logged.
 */
export class RtmpConnection {
  private handshake? = new ServerHandshake();
  private readonly reader = new ChunkReader();
  private readonly writer = new ChunkWriter();
  /** The deadline of the present phase: the handshake, then media (idle), then a refused client's last read. */
  private timer: NodeJS.Timeout;
  private connectedApp?: string;
  private publishAsked = false;
  private publisher?: RtmpPublisher;
  /** A message handler is waiting (authorization): later messages wait in the reader. */
  private busy = false;
  /** The client was refused: nothing more it sends is read, and its socket is ending. */
  private refused = false;
  private closed = false;
  private bytesReceived = 0;
  private bytesAcknowledged = 0;
  private ackWindow = WINDOW_SIZE;
  readonly remoteAddress: string;
  private readonly logger: Logger;

  constructor(
    private readonly socket: Socket,
    private readonly options: RtmpConnectionOptions,
    private readonly onClosed: () => void,
  ) {
    this.remoteAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.logger = options.logger.child({ remoteAddress: this.remoteAddress });
    this.timer = setTimeout(() => this.close('handshake timeout'), options.handshakeTimeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (data) => this.onData(data));
    socket.on('error', (error) => this.close('socket error', error));
    socket.on('close', () => this.close(this.refused ? 'refused' : 'publisher ended'));
  }

  /** Ends the connection and the publish on it (if any), with `reason` for both. */
  close(reason: RtmpCloseReason | string, cause?: string | Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    const expected = reason === 'publisher ended' || reason === 'closed by server' || reason === 'refused';
    const detail = cause instanceof Error ? { err: cause } : cause ? { detail: cause } : {};
    this.logger[expected ? 'info' : 'warn']({ reason, ...detail, streamKey: this.publisher?.streamKey }, 'rtmp connection closed');
    this.publisher?.end(reason);
    this.socket.destroy();
    this.onClosed();
  }

  private onData(data: Buffer): void {
    if (this.closed || this.refused) return;
    this.bytesReceived += data.length;
    this.publisher?.received(data.length);
    try {
      if (this.handshake) {
        const { reply, rest } = this.handshake.push(data);
        if (reply) this.socket.write(reply);
        if (!rest) return;
        this.handshake = undefined;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.close('idle timeout', `nothing came for ${this.options.idleTimeoutMs} ms`), this.options.idleTimeoutMs);
        data = rest;
      }
      this.reader.push(data);
      this.acknowledge();
      this.drain();
    } catch (error) {
      this.fault(error);
    }
  }

  /** Handles complete messages in order; stops while one waits (for authorization) and goes on after. */
  private drain(): void {
    while (!this.busy && !this.refused && !this.closed) {
      const message = this.reader.next();
      if (!message) return;
      const waiting = this.handle(message);
      if (!waiting) continue;
      this.busy = true;
      this.socket.pause();
      waiting
        .then(() => {
          this.busy = false;
          this.socket.resume();
          this.drain();
        })
        .catch((error: unknown) => this.fault(error));
    }
  }

  /** What the client sent is at fault, or (not a RtmpProtocolError) this code is: either way this connection alone ends. */
  private fault(error: unknown): void {
    if (error instanceof RtmpProtocolError) this.close('protocol error', error.message);
    else this.close('protocol error', error instanceof Error ? error : new Error(String(error)));
  }

  /**
   * The idle deadline starts again: media came, or a publish was accepted. Nothing else moves it,
   * so a client that connects and never publishes (pinging as it likes) is dropped all the same.
   */
  private touch(): void {
    this.timer.refresh();
  }

  private handle(message: RtmpMessage): Promise<void> | undefined {
    switch (message.typeId) {
      case MessageType.Audio:
      case MessageType.Video:
        return this.receiveMedia(message);
      case MessageType.DataAmf0:
      case MessageType.DataAmf3:
        return this.receiveData(message);
      case MessageType.CommandAmf0:
      case MessageType.CommandAmf3:
        return this.command(decodeAmf0(message.typeId === MessageType.CommandAmf3 ? message.payload.subarray(1) : message.payload));
      case MessageType.UserControl:
        return this.userControl(message.payload);
      case MessageType.WindowAckSize:
        if (message.payload.length >= 4) this.ackWindow = Math.max(1, message.payload.readUInt32BE(0));
        return undefined;
      default:
        return undefined; // acknowledgements, peer bandwidth, shared objects, aggregates: nothing a publisher needs from us
    }
  }

  private receiveMedia(message: RtmpMessage): undefined {
    if (!this.publisher || this.publisher.closed) return undefined; // after unpublishing, the last frames in flight
    this.touch();
    if (message.typeId === MessageType.Video) this.publisher.receiveVideo(message.timestamp, message.payload);
    else this.publisher.receiveAudio(message.timestamp, message.payload);
    return undefined;
  }

  /** @setDataFrame / onMetaData: the stream's metadata, kept and passed on as the FLV's script tag. */
  private receiveData(message: RtmpMessage): undefined {
    if (!this.publisher || this.publisher.closed) return undefined;
    let body = message.typeId === MessageType.DataAmf3 ? message.payload.subarray(1) : message.payload;
    const values = decodeAmf0(body);
    if (values[0] === '@setDataFrame') {
      body = body.subarray(amf0StringLength('@setDataFrame'));
      values.shift();
    }
    const metadata = values[1];
    if (values[0] === 'onMetaData' && typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata) && !(metadata instanceof Date)) {
      this.publisher.receiveMetadata(message.timestamp, metadata, body);
    }
    return undefined;
  }

  private userControl(payload: Buffer): undefined {
    if (payload.length >= 6 && payload.readUInt16BE(0) === UserControlEvent.PingRequest) {
      this.send(Csid.Control, MessageType.UserControl, 0, userControlPayload(UserControlEvent.PingResponse, payload.readUInt32BE(2)));
    }
    return undefined;
  }

  private command(values: AmfValue[]): Promise<void> | undefined {
    const [name, transactionId] = values;
    if (typeof name !== 'string') throw new RtmpProtocolError('a command message without a command name');
    const transaction = typeof transactionId === 'number' ? transactionId : 0;
    if (name === 'connect') return this.connect(transaction, values[2]);
    if (!this.connectedApp) throw new RtmpProtocolError(`command '${name}' before connect`);
    if (UNPUBLISH_COMMANDS.has(name)) {
      if (this.publisher && !this.publisher.closed) {
        this.logger.info({ command: name, streamKey: this.publisher.streamKey }, 'rtmp publish ended');
        this.publisher.end('publisher ended');
      }
      return undefined;
    }
    switch (name) {
      case 'releaseStream':
      case 'FCPublish':
        this.sendCommand(Csid.Command, 0, '_result', transaction, null);
        return undefined;
      case 'createStream':
        this.sendCommand(Csid.Command, 0, '_result', transaction, null, PUBLISH_STREAM_ID);
        return undefined;
      case 'publish':
        return this.publish(values[3]);
      case 'play':
      case 'play2':
        this.refuse('NetStream.Play.Failed', `this server only receives: publish to rtmp://<host>/${this.options.app}/<stream key>`);
        return undefined;
      default:
        throw new RtmpProtocolError(`unknown command '${name}'`);
    }
  }

  private connect(transaction: number, commandObject: AmfValue): undefined {
    if (this.connectedApp) throw new RtmpProtocolError('connect on a connection that is connected already');
    const requested = typeof commandObject === 'object' && commandObject !== null && !Array.isArray(commandObject) ? (commandObject as AmfObject).app : undefined;
    const app = typeof requested === 'string' ? requested.split('?')[0]!.replace(/\/+$/, '') : '';
    if (app !== this.options.app) {
      this.logger.warn({ app }, 'rtmp connect refused');
      this.sendCommand(Csid.Command, 0, '_error', transaction, null, {
        level: 'error',
        code: 'NetConnection.Connect.Rejected',
        description: `unknown application '${app}': publish to rtmp://<host>/${this.options.app}/<stream key>`,
      });
      this.endAfterRefusal();
      return undefined;
    }
    this.connectedApp = app;
    this.send(Csid.Control, MessageType.WindowAckSize, 0, uint32(WINDOW_SIZE));
    this.send(Csid.Control, MessageType.SetPeerBandwidth, 0, Buffer.concat([uint32(WINDOW_SIZE), Buffer.of(SET_PEER_BANDWIDTH_DYNAMIC)]));
    this.send(Csid.Control, MessageType.SetChunkSize, 0, uint32(OUTGOING_CHUNK_SIZE));
    this.writer.setChunkSize(OUTGOING_CHUNK_SIZE);
    this.sendCommand(Csid.Command, 0, '_result', transaction, { fmsVer: 'FMS/3,0,1,123', capabilities: 31 }, {
      level: 'status',
      code: 'NetConnection.Connect.Success',
      description: 'Connection succeeded.',
      objectEncoding: 0,
    });
    return undefined;
  }

  private async publish(name: AmfValue): Promise<void> {
    if (this.publishAsked) throw new RtmpProtocolError('a second publish on one connection');
    this.publishAsked = true;
    const app = this.connectedApp!;
    const streamKey = typeof name === 'string' ? name : '';
    let refusal: string | null;
    try {
      refusal = streamKey ? await this.options.authorize({ app, streamKey, remoteAddress: this.remoteAddress }) : 'publish without a stream key';
    } catch (error) {
      this.logger.error({ err: error, streamKey }, 'rtmp authorize threw: publish refused');
      refusal = 'authorization is unavailable, try again later';
    }
    if (this.closed) return;
    if (refusal !== null) {
      this.logger.warn({ streamKey, reason: refusal }, 'rtmp publish refused');
      this.refuse('NetStream.Publish.BadName', refusal);
      return;
    }
    this.publisher = new RtmpPublisher({ app, streamKey, remoteAddress: this.remoteAddress, disconnect: (reason) => this.close(reason) });
    this.send(Csid.Control, MessageType.UserControl, 0, userControlPayload(UserControlEvent.StreamBegin, PUBLISH_STREAM_ID));
    this.sendCommand(Csid.Status, PUBLISH_STREAM_ID, 'onStatus', 0, null, {
      level: 'status',
      code: 'NetStream.Publish.Start',
      description: `${streamKey} is now published.`,
    });
    this.logger.info({ streamKey }, 'rtmp publish started');
    this.touch();
    this.options.onPublish(this.publisher);
  }

  /** Tells the client why on its stream (it shows the description), then ends the connection. */
  private refuse(code: string, description: string): void {
    this.sendCommand(Csid.Status, PUBLISH_STREAM_ID, 'onStatus', 0, null, { level: 'error', code, description });
    this.endAfterRefusal();
  }

  /** Lets the last reply reach the client, which closes on it; destroys the socket if it does not. */
  private endAfterRefusal(): void {
    this.refused = true;
    this.socket.end();
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close('refused'), REFUSAL_LINGER_MS);
  }

  private acknowledge(): void {
    if (this.bytesReceived - this.bytesAcknowledged < this.ackWindow) return;
    this.bytesAcknowledged = this.bytesReceived;
    this.send(Csid.Control, MessageType.Acknowledgement, 0, uint32(this.bytesReceived % 2 ** 32));
  }

  private sendCommand(csid: Csid, streamId: number, ...values: AmfValue[]): void {
    this.send(csid, MessageType.CommandAmf0, streamId, encodeAmf0(...values));
  }

  private send(csid: Csid, typeId: number, streamId: number, payload: Buffer): void {
    if (this.socket.writable) this.socket.write(this.writer.chunks(csid, { typeId, streamId, timestamp: 0, payload }));
  }
}

function uint32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}

function userControlPayload(event: UserControlEvent, value: number): Buffer {
  const payload = Buffer.alloc(6);
  payload.writeUInt16BE(event);
  payload.writeUInt32BE(value, 2);
  return payload;
}
