import { randomBytes } from 'node:crypto';
import { RtmpProtocolError } from './RtmpProtocolError.js';

const RTMP_VERSION = 3;
const HANDSHAKE_SIZE = 1536;

/**
 * The server side of the simple RTMP handshake: C0+C1 in, S0+S1+S2 out, then C2 in. S1 carries zero
 * in its version field, which tells clients (ffmpeg, OBS, librtmp) not to look for the Flash
 * digest, and S2 echoes C1, which they accept.
 */
export class ServerHandshake {
  private received: Buffer = Buffer.alloc(0);
  private sentReply = false;

  /**
   * Takes the next bytes from the client. Returns the reply to send, if one is due, and once C2 is
   * in, `rest`: the bytes after it, which belong to the chunk stream. Throws RtmpProtocolError
   * when the client is not speaking plain RTMP.
   */
  push(data: Buffer): { reply?: Buffer; rest?: Buffer } {
    this.received = this.received.length === 0 ? data : Buffer.concat([this.received, data]);
    if (this.received[0] !== RTMP_VERSION) {
      throw new RtmpProtocolError(`handshake version ${this.received[0]} is not plain RTMP (3): rtmpe, rtmps and non-RTMP clients are refused`);
    }
    let reply: Buffer | undefined;
    if (!this.sentReply && this.received.length >= 1 + HANDSHAKE_SIZE) {
      this.sentReply = true;
      reply = Buffer.concat([Buffer.of(RTMP_VERSION), serverChallenge(), this.received.subarray(1, 1 + HANDSHAKE_SIZE)]);
    }
    const end = 1 + 2 * HANDSHAKE_SIZE;
    if (this.received.length < end) return { reply };
    return { reply, rest: this.received.subarray(end) };
  }
}

/** S1: time 0, zero (no digest scheme), random bytes. */
function serverChallenge(): Buffer {
  const s1 = randomBytes(HANDSHAKE_SIZE);
  s1.fill(0, 0, 8);
  return s1;
}
