import { createCipheriv, createHmac } from 'node:crypto';
import type { SrtpSuite } from '../sdp/index.js';

/** RFC 3711 key derivation labels. */
const LABEL = { rtpKey: 0, rtpAuth: 1, rtpSalt: 2, rtcpKey: 3, rtcpAuth: 4, rtcpSalt: 5 } as const;

interface SessionKeys {
  key: Buffer;
  auth: Buffer;
  salt: Buffer;
}

/**
 * Our side of an SDES-keyed SRTP session (AES_CM_128_HMAC_SHA1_80 or _32, key derivation rate 0,
 * no MKI): protects the RTP and RTCP we send with our key. One per media kind and leg; it tracks
 * the rollover counter of each SSRC sent through it.
 */
export class SrtpSender {
  private readonly rtp: SessionKeys;
  private readonly rtcp: SessionKeys;
  private readonly tagBytes: number;
  private readonly rollover = new Map<number, { roc: number; lastSequence: number }>();
  private rtcpIndex = 0;

  /** `key`: base64 of the 16-byte master key and 14-byte master salt. */
  constructor(suite: SrtpSuite, key: string) {
    const material = Buffer.from(key, 'base64');
    if (material.length !== 30) throw new RangeError(`an SRTP master key and salt are 30 bytes, not ${material.length}`);
    const masterKey = material.subarray(0, 16);
    const masterSalt = material.subarray(16);
    const derive = (label: number, bytes: number): Buffer => deriveKey(masterKey, masterSalt, label, bytes);
    this.rtp = { key: derive(LABEL.rtpKey, 16), auth: derive(LABEL.rtpAuth, 20), salt: derive(LABEL.rtpSalt, 14) };
    this.rtcp = { key: derive(LABEL.rtcpKey, 16), auth: derive(LABEL.rtcpAuth, 20), salt: derive(LABEL.rtcpSalt, 14) };
    this.tagBytes = suite === 'AES_CM_128_HMAC_SHA1_32' ? 4 : 10;
  }

  /** An SRTP packet of a plain RTP packet (header extension and CSRCs left in the clear). */
  protectRtp(packet: Buffer, payloadStart: number): Buffer {
    const ssrc = packet.readUInt32BE(8);
    const sequence = packet.readUInt16BE(2);
    const roc = this.rolloverOf(ssrc, sequence);
    const index = roc * 0x10000 + sequence;
    const encrypted = Buffer.concat([packet.subarray(0, payloadStart), aesCm(this.rtp, ssrc, index, packet.subarray(payloadStart))]);
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc >>> 0);
    const tag = createHmac('sha1', this.rtp.auth).update(encrypted).update(rocBytes).digest().subarray(0, this.tagBytes);
    return Buffer.concat([encrypted, tag]);
  }

  /** An SRTCP packet of a plain (compound) RTCP packet: encrypted after the first 8 bytes, 80-bit tag. */
  protectRtcp(packet: Buffer): Buffer {
    const ssrc = packet.readUInt32BE(4);
    const index = this.rtcpIndex;
    this.rtcpIndex = (this.rtcpIndex + 1) & 0x7fffffff;
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32BE((0x80000000 | index) >>> 0);
    const body = Buffer.concat([packet.subarray(0, 8), aesCm(this.rtcp, ssrc, index, packet.subarray(8)), trailer]);
    const tag = createHmac('sha1', this.rtcp.auth).update(body).digest().subarray(0, 10);
    return Buffer.concat([body, tag]);
  }

  private rolloverOf(ssrc: number, sequence: number): number {
    const state = this.rollover.get(ssrc);
    if (!state) {
      this.rollover.set(ssrc, { roc: 0, lastSequence: sequence });
      return 0;
    }
    if (sequence < state.lastSequence && state.lastSequence - sequence > 0x8000) state.roc = (state.roc + 1) >>> 0;
    if (((sequence - state.lastSequence) & 0xffff) < 0x8000) state.lastSequence = sequence;
    return state.roc;
  }
}

/** AES-CM (RFC 3711 §4.1.1) of `data` for packet `index` of `ssrc`. */
function aesCm(keys: SessionKeys, ssrc: number, index: number, data: Buffer): Buffer {
  const iv = Buffer.alloc(16);
  keys.salt.copy(iv, 0);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
  const high = Math.floor(index / 0x100000000);
  iv.writeUInt16BE(iv.readUInt16BE(8) ^ high, 8);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  const cipher = createCipheriv('aes-128-ctr', keys.key, iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/** The PRF of RFC 3711 §4.3 with key derivation rate 0: AES-CM over the salt with the label at byte 7. */
function deriveKey(masterKey: Buffer, masterSalt: Buffer, label: number, bytes: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7] = iv[7]! ^ label;
  const cipher = createCipheriv('aes-128-ctr', masterKey, iv);
  return Buffer.concat([cipher.update(Buffer.alloc(bytes)), cipher.final()]);
}
