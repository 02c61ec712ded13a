import { RtmpProtocolError } from './RtmpProtocolError.js';

/** RTMP message type ids. */
export const MessageType = {
  SetChunkSize: 1,
  Abort: 2,
  Acknowledgement: 3,
  UserControl: 4,
  WindowAckSize: 5,
  SetPeerBandwidth: 6,
  Audio: 8,
  Video: 9,
  DataAmf3: 15,
  CommandAmf3: 17,
  DataAmf0: 18,
  CommandAmf0: 20,
  Aggregate: 22,
} as const;

export interface RtmpMessage {
  typeId: number;
  /** The message stream: 0 for the connection, the id createStream gave for a stream. */
  streamId: number;
  /** Milliseconds, modulo 2^32. */
  timestamp: number;
  payload: Buffer;
}

/** The chunk size both sides start with. */
export const DEFAULT_CHUNK_SIZE = 128;
/**
 * The largest message reassembled (bytes). A 4K key frame fits in a few MiB; a length field can
 * claim 16 MiB, and a publisher claiming that much is refused rather than buffered.
 */
export const MAX_MESSAGE_SIZE = 8 * 1024 * 1024;
/** Chunk sizes a peer may set: RTMP allows up to 2^31 - 1, but no chunk is longer than a message. */
const MAX_CHUNK_SIZE = 0xffffff;
/** Messages half-received on all chunk streams together, announced bytes (audio and video interleave). */
const MAX_PENDING_BYTES = 2 * MAX_MESSAGE_SIZE;
const EXTENDED_TIMESTAMP = 0xffffff;

interface PartialMessage {
  parts: Buffer[];
  received: number;
}

/** What the last chunk header on one chunk stream said: later headers leave out what is the same. */
interface ChunkStreamState {
  timestamp: number;
  /** The last timestamp field: a delta, or for a type 0 header the absolute time (as ffmpeg and librtmp count). */
  delta: number;
  length: number;
  typeId: number;
  streamId: number;
  /** The last header had an extended timestamp: type 3 chunks after it carry one too. */
  extended: boolean;
  message?: PartialMessage;
}

interface ChunkInProgress {
  state: ChunkStreamState;
  /** Payload bytes of this chunk still to come. */
  remaining: number;
}

/**
 * Reassembles messages from a peer's chunk stream. Payload bytes are taken as they arrive, so a
 * large chunk split over many TCP reads is not copied again on each one. Set Chunk Size and Abort
 * act here, on the stream they belong to; every other message is handed out by next().
 */
export class ChunkReader {
  private buffer: Buffer = Buffer.alloc(0);
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private readonly streams = new Map<number, ChunkStreamState>();
  private chunk?: ChunkInProgress;
  private pendingBytes = 0;

  push(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
  }

  /** The next complete message, or undefined until more bytes arrive. Throws RtmpProtocolError. */
  next(): RtmpMessage | undefined {
    for (;;) {
      this.chunk ??= this.readHeader();
      if (!this.chunk) return undefined;
      const { state } = this.chunk;
      const message = state.message!;
      const take = Math.min(this.chunk.remaining, this.buffer.length);
      if (take > 0) {
        message.parts.push(this.buffer.subarray(0, take));
        message.received += take;
        this.buffer = this.buffer.subarray(take);
        this.chunk.remaining -= take;
      }
      if (this.chunk.remaining > 0) return undefined;
      this.chunk = undefined;
      if (message.received < state.length) continue;
      state.message = undefined;
      this.pendingBytes -= state.length;
      const complete: RtmpMessage = {
        typeId: state.typeId,
        streamId: state.streamId,
        timestamp: state.timestamp,
        payload: message.parts.length === 1 ? message.parts[0]! : Buffer.concat(message.parts),
      };
      if (!this.actOnControl(complete)) return complete;
    }
  }

  /** Parses one chunk header if all of it is in; starts the message it begins, if it begins one. */
  private readHeader(): ChunkInProgress | undefined {
    const data = this.buffer;
    if (data.length < 1) return undefined;
    const fmt = data[0]! >> 6;
    let offset = 1;
    let csid = data[0]! & 0x3f;
    if (csid === 0) {
      if (data.length < 2) return undefined;
      csid = 64 + data[1]!;
      offset = 2;
    } else if (csid === 1) {
      if (data.length < 3) return undefined;
      csid = 64 + data[1]! + data[2]! * 256;
      offset = 3;
    }
    const headerLength = [11, 7, 3, 0][fmt]!;
    if (data.length < offset + headerLength) return undefined;
    const previous = this.streams.get(csid);
    if (fmt !== 0 && !previous) throw new RtmpProtocolError(`chunk stream ${csid} starts with a type ${fmt} header, which needs an earlier one`);
    const state: ChunkStreamState = previous ?? { timestamp: 0, delta: 0, length: 0, typeId: 0, streamId: 0, extended: false };
    const timestampField = fmt === 3 ? (state.extended ? EXTENDED_TIMESTAMP : 0) : data.readUIntBE(offset, 3);
    const extended = timestampField === EXTENDED_TIMESTAMP;
    const totalLength = offset + headerLength + (extended ? 4 : 0);
    if (data.length < totalLength) return undefined;
    const timestamp = extended ? data.readUInt32BE(offset + headerLength) : timestampField;
    const continuing = fmt === 3 && state.message !== undefined;
    if (fmt !== 3 && state.message) throw new RtmpProtocolError(`chunk stream ${csid} starts a new message before finishing the last`);
    if (!continuing) {
      if (fmt <= 1) {
        state.length = data.readUIntBE(offset + 3, 3);
        state.typeId = data[offset + 6]!;
      }
      if (fmt === 0) state.streamId = data.readUInt32LE(offset + 7);
      if (fmt !== 3) state.delta = timestamp;
      state.extended = extended;
      state.timestamp = fmt === 0 ? timestamp : (state.timestamp + state.delta) >>> 0;
      this.startMessage(csid, state);
    }
    this.streams.set(csid, state);
    this.buffer = data.subarray(totalLength);
    const left = state.length - state.message!.received;
    return { state, remaining: Math.min(left, this.chunkSize) };
  }

  private startMessage(csid: number, state: ChunkStreamState): void {
    if (state.length > MAX_MESSAGE_SIZE) {
      throw new RtmpProtocolError(`a message of ${state.length} bytes on chunk stream ${csid} is over the ${MAX_MESSAGE_SIZE}-byte limit`);
    }
    if (this.pendingBytes + state.length > MAX_PENDING_BYTES) {
      throw new RtmpProtocolError(`more than ${MAX_PENDING_BYTES} bytes of messages are half-sent at once`);
    }
    this.pendingBytes += state.length;
    state.message = { parts: [], received: 0 };
  }

  /** Applies Set Chunk Size and Abort; false for any other message. */
  private actOnControl(message: RtmpMessage): boolean {
    if (message.typeId !== MessageType.SetChunkSize && message.typeId !== MessageType.Abort) return false;
    if (message.payload.length < 4) throw new RtmpProtocolError(`control message ${message.typeId} is shorter than 4 bytes`);
    const value = message.payload.readUInt32BE(0);
    if (message.typeId === MessageType.SetChunkSize) {
      if (value < 1 || value > MAX_CHUNK_SIZE) throw new RtmpProtocolError(`chunk size ${value} is outside 1..${MAX_CHUNK_SIZE}`);
      this.chunkSize = value;
    } else {
      const state = this.streams.get(value);
      if (state?.message) {
        this.pendingBytes -= state.length;
        state.message = undefined;
      }
    }
    return true;
  }
}

/** Splits this side's messages into chunks, each with a full (type 0) header: simple, and every client reads it. */
export class ChunkWriter {
  private chunkSize = DEFAULT_CHUNK_SIZE;

  /** Takes effect for the messages after this: send Set Chunk Size with the same value first. */
  setChunkSize(size: number): void {
    this.chunkSize = size;
  }

  chunks(csid: number, message: RtmpMessage): Buffer {
    if (csid < 2 || csid > 63) throw new RangeError(`chunk stream id ${csid} is outside 2..63, the one-byte form this writer uses`);
    const extended = message.timestamp >= EXTENDED_TIMESTAMP;
    const header = Buffer.alloc(12 + (extended ? 4 : 0));
    header[0] = csid;
    header.writeUIntBE(extended ? EXTENDED_TIMESTAMP : message.timestamp, 1, 3);
    header.writeUIntBE(message.payload.length, 4, 3);
    header[7] = message.typeId;
    header.writeUInt32LE(message.streamId, 8);
    if (extended) header.writeUInt32BE(message.timestamp, 12);
    const parts = [header, message.payload.subarray(0, this.chunkSize)];
    const continuation = Buffer.of(0xc0 | csid, ...(extended ? header.subarray(12) : []));
    for (let offset = this.chunkSize; offset < message.payload.length; offset += this.chunkSize) {
      parts.push(continuation, message.payload.subarray(offset, offset + this.chunkSize));
    }
    return Buffer.concat(parts);
  }
}
