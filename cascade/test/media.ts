// Shared units of the SIP media tests: a real SFU on loopback, cameras and microphones fed by
// ffmpeg over plain RTP, and UDP sockets standing in for a terminal or an MCU.
import { createSocket, type Socket } from 'node:dgram';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { afterEach, expect } from 'vitest';
import { FfmpegProcess, liveFfmpegCount, Sfu, type mediasoupTypes as ms, type SfuConfig } from '@cityconf/sfu';
import { payloadOffset } from '../src/media/rtp.js';

/** One worker on loopback with rtc ports from 45500 (apart from the other test files). */
export const sfuConfig: SfuConfig = {
  numWorkers: 1,
  rtcMinPort: 45500,
  rtcMaxPort: 46499,
  listenIps: [{ ip: '127.0.0.1' }],
  workerLogLevel: 'none',
  initialAvailableOutgoingBitrate: 1_000_000,
  maxIncomingBitrate: 0,
};

/** SIP media ports of the tests (our side and the fake peers), apart from mediasoup's. */
export const SIP_PORTS = { min: 47000, max: 47999 };

/** A logger whose messages tests can read (`BRIDGE_LOG=info` also prints them). */
export function recordingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const line = chunk.toString();
      messages.push((JSON.parse(line) as { msg: string }).msg);
      if (process.env.BRIDGE_LOG) process.stderr.write(line);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), messages };
}

export interface Received {
  packet: Buffer;
  at: number;
}

/** A UDP socket on loopback recording what it receives. */
export async function listener(port = 0): Promise<{ socket: Socket; received: Received[]; port: number }> {
  const socket = createSocket('udp4');
  const received: Received[] = [];
  socket.on('message', (packet) => received.push({ packet, at: Date.now() }));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return { socket, received, port: socket.address().port };
}

/** A free even port whose next one is free too, on loopback, in SIP_PORTS (for a fake peer). */
export async function peerPortPair(): Promise<{ rtp: Awaited<ReturnType<typeof listener>>; rtcp: Awaited<ReturnType<typeof listener>> }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = SIP_PORTS.max - 200 + 2 * Math.floor(Math.random() * 100);
    try {
      const rtp = await listener(port);
      try {
        return { rtp, rtcp: await listener(port + 1) };
      } catch {
        rtp.socket.close();
      }
    } catch {
      // taken: try another
    }
  }
  throw new Error('no free port pair for the fake peer');
}

export interface FeedSpec {
  kind: 'audio' | 'video';
  codec: 'VP8' | 'H264' | 'opus';
  /** Sine frequency of a microphone, or the test pattern of a camera. */
  frequency?: number;
}

const FEED_CODECS: Record<FeedSpec['codec'], ms.RtpCodecParameters> = {
  VP8: { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, rtcpFeedback: [{ type: 'nack', parameter: 'pli' }] },
  H264: {
    mimeType: 'video/H264',
    payloadType: 102,
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
    rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
  },
  opus: { mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 },
};

/**
 * Producers on `router`, each fed over plain RTP by one ffmpeg: cameras send a test pattern with a
 * key frame every second, microphones a sine.
 */
export async function feedProducers(router: ms.Router, logger: Logger, specs: FeedSpec[]): Promise<{ producers: ms.Producer[]; source: FfmpegProcess }> {
  const producers: ms.Producer[] = [];
  const args: string[] = [];
  const outputs: string[] = [];
  for (const [index, spec] of specs.entries()) {
    const transport = await router.createPlainTransport({ listenIp: sfuConfig.listenIps[0]!, rtcpMux: false, comedia: true });
    const ssrc = 1000 + index;
    const codec = FEED_CODECS[spec.codec];
    producers.push(await transport.produce({ kind: spec.kind, rtpParameters: { codecs: [codec], encodings: [{ ssrc }] }, appData: { participantId: `feed-${index}`, source: spec.kind === 'audio' ? 'microphone' : 'camera' } }));
    const url = `rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}&pkt_size=1200`;
    args.push('-re', '-f', 'lavfi', '-i', spec.kind === 'audio' ? `sine=frequency=${spec.frequency ?? 440}:sample_rate=48000` : 'testsrc2=size=320x180:rate=15');
    const encoder =
      spec.codec === 'opus'
        ? ['-c:a', 'libopus', '-b:a', '32k']
        : spec.codec === 'VP8'
          ? ['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15']
          : ['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p', '-g', '15'];
    outputs.push('-map', `${index}:0`, ...encoder, '-payload_type', String(codec.payloadType), '-ssrc', String(ssrc), '-f', 'rtp', url);
  }
  const source = new FfmpegProcess('feeds', [...args, ...outputs], logger);
  return { producers, source };
}

/** The RTP packets (not RTCP) among `received`. */
export function rtpOnly(received: Received[]): Received[] {
  return received.filter(({ packet }) => packet.length >= 12 && (packet[1]! < 192 || packet[1]! > 223));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when `check` holds, polling; rejects after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/**
 * What a test opens, closed after it (last opened first); then no ffmpeg may be left running and
 * the SFU, if one was opened, closes. Call inside a describe block.
 */
export function mediaTestScope(): { cleanups: (() => unknown)[]; openSfu(logger: Logger): Promise<Sfu> } {
  const cleanups: (() => unknown)[] = [];
  let sfu: Sfu | undefined;
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(liveFfmpegCount()).toBe(0);
    sfu?.close();
    sfu = undefined;
  });
  return {
    cleanups,
    async openSfu(logger) {
      sfu = await Sfu.create(sfuConfig, logger);
      return sfu;
    },
  };
}

export const crlf = (lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** Power of `frequency` in samples at 8 kHz (Goertzel). */
export function tonePower(samples: ArrayLike<number>, frequency: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * frequency) / 8000);
  let previous = 0;
  let beforePrevious = 0;
  for (let index = 0; index < samples.length; index++) {
    const current = samples[index]! + coefficient * previous - beforePrevious;
    beforePrevious = previous;
    previous = current;
  }
  return (previous * previous + beforePrevious * beforePrevious - coefficient * previous * beforePrevious) / samples.length;
}

/** H.264 RTP payloads (single NAL, STAP-A, FU-A) as an Annex B byte stream. */
export function annexB(packets: Received[]): Buffer {
  const startCode = Buffer.from([0, 0, 0, 1]);
  const parts: Buffer[] = [];
  for (const { packet } of packets) {
    const payload = packet.subarray(payloadOffset(packet));
    const type = payload[0]! & 0x1f;
    if (type >= 1 && type <= 23) parts.push(startCode, payload);
    else if (type === 24) {
      for (let offset = 1; offset + 2 < payload.length; offset += 2 + payload.readUInt16BE(offset)) {
        parts.push(startCode, payload.subarray(offset + 2, offset + 2 + payload.readUInt16BE(offset)));
      }
    } else if (type === 28) {
      if (payload[1]! & 0x80) parts.push(startCode, Buffer.from([(payload[0]! & 0xe0) | (payload[1]! & 0x1f)]));
      parts.push(payload.subarray(2));
    }
  }
  return Buffer.concat(parts);
}
