import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import type { Negotiation, NegotiatedMedia } from '../sdp/index.js';
import { isRtcp, payloadOffset } from './rtp.js';
import { SrtpSender } from './SrtpSender.js';

export type MediaKind = 'audio' | 'video';

/** Where SIP media ports are taken unless told: apart from mediasoup's and the bridges' ranges. */
export const DEFAULT_SIP_MEDIA_PORTS = { min: 30000, max: 39999 };

export interface MediaPortsOptions {
  /** The address the sockets bind (default 0.0.0.0): peers send to our SDP's c= address. */
  address?: string;
  ports?: { min: number; max: number };
}

export interface MediaPortsEvents {
  /** An RTP packet from the peer (SRTP still encrypted). */
  rtp: [kind: MediaKind, packet: Buffer];
  /** An RTCP packet from the peer, on port + 1 or muxed (SRTCP still encrypted). */
  rtcp: [kind: MediaKind, packet: Buffer];
}

interface Pair {
  rtp: Socket;
  rtcp: Socket;
}

interface Peer {
  media: NegotiatedMedia;
  srtp?: SrtpSender;
}

/** Running totals of a leg's RTP (RTCP not counted), for its bit rates and loss. */
export interface MediaPortsCounters {
  rxBytes: number;
  rxPackets: number;
  /** Packets the peer's sequence numbers say were sent (received + lost), over all its SSRCs. */
  rxExpected: number;
  txBytes: number;
  txPackets: number;
}

/** One incoming RTP stream's sequence numbers, RFC 3550 A.1 style (extended with wrap-arounds). */
class SequenceTracker {
  private ssrc = -1;
  private base = 0;
  private max = 0;
  /** Expected packets of the SSRCs seen before the current one. */
  private previous = 0;

  note(packet: Buffer): void {
    if (packet.length < 12) return;
    const ssrc = packet.readUInt32BE(8);
    const seq = packet.readUInt16BE(2);
    if (ssrc !== this.ssrc) {
      if (this.ssrc !== -1) this.previous += this.max - this.base + 1;
      this.ssrc = ssrc;
      this.base = seq;
      this.max = seq;
      return;
    }
    const delta = (seq - (this.max & 0xffff)) & 0xffff;
    if (delta === 0 || delta >= 0x8000) return; // a duplicate or a late packet
    this.max += delta;
  }

  get expected(): number {
    return this.ssrc === -1 ? 0 : this.previous + this.max - this.base + 1;
  }
}

/**
 * The UDP ports of one SIP leg: an RTP/RTCP pair per media kind, bound from allocation until
 * close, so what our SDP advertises stays ours. Media to the peer leaves from these ports
 * (symmetric RTP, what NATs and SBCs expect), SRTP-protected with our key when negotiated.
 */
export class MediaPorts extends EventEmitter<MediaPortsEvents> {
  private readonly peers = new Map<MediaKind, Peer>();
  private closed = false;
  private readonly totals = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
  private readonly sequences: Record<MediaKind, SequenceTracker> = { audio: new SequenceTracker(), video: new SequenceTracker() };

  private constructor(private readonly pairs: Record<MediaKind, Pair>) {
    super();
    for (const kind of ['audio', 'video'] as const) {
      const { rtp, rtcp } = pairs[kind];
      rtp.on('message', (packet) => {
        if (isRtcp(packet)) {
          this.emit('rtcp', kind, packet);
          return;
        }
        this.totals.rxBytes += packet.length;
        this.totals.rxPackets++;
        this.sequences[kind].note(packet);
        this.emit('rtp', kind, packet);
      });
      rtcp.on('message', (packet) => this.emit('rtcp', kind, packet));
    }
  }

  /** RTP totals since allocation, both kinds together. */
  counters(): MediaPortsCounters {
    return { ...this.totals, rxExpected: this.sequences.audio.expected + this.sequences.video.expected };
  }

  /** Binds two even/odd port pairs in the range (RTP on the even port, RTCP on the next). */
  static async allocate(options: MediaPortsOptions = {}): Promise<MediaPorts> {
    const address = options.address ?? '0.0.0.0';
    const range = options.ports ?? DEFAULT_SIP_MEDIA_PORTS;
    const audio = await bindPair(address, range);
    try {
      return new MediaPorts({ audio, video: await bindPair(address, range) });
    } catch (error) {
      closePair(audio);
      throw error;
    }
  }

  get audioPort(): number {
    return this.pairs.audio.rtp.address().port;
  }

  get videoPort(): number {
    return this.pairs.video.rtp.address().port;
  }

  /** Where to send each kind, and with which key, from now on (a re-INVITE calls it again). */
  setPeer(negotiation: Negotiation): void {
    for (const kind of ['audio', 'video'] as const) {
      const media = negotiation[kind];
      const current = this.peers.get(kind);
      if (!media) this.peers.delete(kind);
      else if (current && current.media.srtp?.localKey === media.srtp?.localKey) current.media = media;
      else this.peers.set(kind, { media, ...(media.srtp ? { srtp: new SrtpSender(media.srtp.suite, media.srtp.localKey) } : {}) });
    }
  }

  /** Sends RTP to the peer, unless it holds us or has no such media. */
  sendRtp(kind: MediaKind, packet: Buffer): void {
    const peer = this.sendingPeer(kind);
    if (!peer) return;
    const { address, port } = peer.media.remote;
    const sent = peer.srtp ? peer.srtp.protectRtp(packet, payloadOffset(packet)) : packet;
    this.totals.txBytes += sent.length;
    this.totals.txPackets++;
    this.pairs[kind].rtp.send(sent, port, address);
  }

  /** Sends RTCP to the peer's RTCP port (the RTP port with rtcp-mux), from ours. */
  sendRtcp(kind: MediaKind, packet: Buffer): void {
    const peer = this.sendingPeer(kind);
    if (!peer) return;
    const { rtcpAddress, rtcpPort } = peer.media.remote;
    const socket = peer.media.rtcpMux ? this.pairs[kind].rtp : this.pairs[kind].rtcp;
    socket.send(peer.srtp ? peer.srtp.protectRtcp(packet) : packet, rtcpPort, rtcpAddress);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closePair(this.pairs.audio);
    closePair(this.pairs.video);
    this.removeAllListeners();
  }

  private sendingPeer(kind: MediaKind): Peer | undefined {
    const peer = this.peers.get(kind);
    if (this.closed || !peer) return undefined;
    const { direction, remote } = peer.media;
    if (direction === 'recvonly' || direction === 'inactive' || remote.port === 0 || remote.address === '0.0.0.0') return undefined;
    return peer;
  }
}

async function bindPair(address: string, range: { min: number; max: number }): Promise<Pair> {
  const pairs = Math.floor((range.max - range.min) / 2);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = range.min + (range.min % 2) + 2 * Math.floor(Math.random() * pairs);
    const rtp = await bind(address, port);
    if (!rtp) continue;
    const rtcp = await bind(address, port + 1);
    if (rtcp) return { rtp, rtcp };
    rtp.close();
  }
  throw new Error(`no free UDP port pair in ${range.min}–${range.max}`);
}

function bind(address: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(undefined);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined); // ICMP unreachable and the like: the peer's problem
      resolve(socket);
    });
  });
}

function closePair({ rtp, rtcp }: Pair): void {
  rtp.close();
  rtcp.close();
}
