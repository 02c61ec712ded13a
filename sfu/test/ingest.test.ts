// Ingest of drone and camera feeds with real ffmpegs: an RTMP publisher pushing H.264 + AAC, received
// by consumers as the same H.264 (not re-encoded) and Opus across a reconnect; re-encoding on request
// and for an SRT camera with B-frames; sources refused before anything is opened.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegProcess, IngestJob, IngestSourceError, liveFfmpegCount, Sfu, type mediasoupTypes as ms } from '../src/index.js';
import { testSfuConfig } from './config.js';

const config = testSfuConfig(45000);
const logger = pino({ level: process.env.INGEST_LOG ?? 'silent' });
const H264_PROFILE_BASELINE = 66;
const H264_PROFILE_HIGH = 100;

/** A free TCP port on the loopback (the RTMP listener's). */
function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The pusher a drone would be: H.264 High (yuv420p) + AAC over RTMP, for `seconds`. */
function push(port: number, seconds: number, keyFrameInterval = 30): FfmpegProcess {
  return new FfmpegProcess('drone', [
    '-re', '-f', 'lavfi', '-i', `testsrc=size=640x360:rate=15:duration=${seconds}`,
    '-re', '-f', 'lavfi', '-i', `sine=duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', String(keyFrameInterval),
    '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/drone1`,
  ], logger);
}

/** A camera serving H.264 with B-frames over SRT, served again each time a caller leaves. */
function srtCamera(port: number): { stop(): Promise<unknown> } {
  let stopped = false;
  let current: FfmpegProcess;
  const serve = (): void => {
    current = new FfmpegProcess('camera', [
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-f', 'lavfi', '-i', 'sine',
      '-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-pix_fmt', 'yuv420p', '-g', '30', '-c:a', 'aac',
      '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=listener`,
    ], logger);
    void current.exited.then(() => stopped || serve());
  };
  serve();
  return {
    stop() {
      stopped = true;
      return current.stop(0);
    },
  };
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

interface Sink {
  consumer: ms.Consumer;
  packets: Buffer[];
}

/** A consumer of `producer` on a plain recv transport, sending to a local UDP socket. */
async function sink(router: ms.Router, producer: ms.Producer, sockets: Socket[]): Promise<Sink> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const transport = await router.createPlainTransport({ listenIp: config.listenIps[0]!, rtcpMux: true, comedia: false });
  await transport.connect({ ip: '127.0.0.1', port: socket.address().port });
  const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: router.rtpCapabilities });
  const ssrc = consumer.rtpParameters.encodings![0]!.ssrc!;
  const packets: Buffer[] = [];
  socket.on('message', (packet) => {
    // The consumer's RTP only: not RTCP (packet types 200–204), nor bandwidth probes (their own SSRC).
    const rtcp = packet[1]! >= 200 && packet[1]! <= 204;
    if (packet.length >= 12 && !rtcp && packet.readUInt32BE(8) === ssrc) packets.push(packet);
  });
  return { consumer, packets };
}

function payloadTypes(packets: Buffer[]): number[] {
  return [...new Set(packets.map((packet) => packet[1]! & 0x7f))];
}

function rtpHeaderLength(packet: Buffer): number {
  const fixed = 12 + 4 * (packet[0]! & 0x0f);
  const hasExtension = (packet[0]! & 0x10) !== 0;
  return hasExtension ? fixed + 4 + 4 * packet.readUInt16BE(fixed + 2) : fixed;
}

/** profile_idc of the first SPS in H.264 RTP packets (single NAL units or STAP-A). */
function spsProfile(packets: Buffer[]): number | undefined {
  for (const packet of packets) {
    const payload = packet.subarray(rtpHeaderLength(packet));
    const nalType = payload[0]! & 0x1f;
    if (nalType === 7) return payload[1];
    if (nalType !== 24) continue;
    for (let offset = 1; offset + 2 < payload.length; offset += 2 + payload.readUInt16BE(offset)) {
      if ((payload[offset + 2]! & 0x1f) === 7) return payload[offset + 3];
    }
  }
  return undefined;
}

/** RTP timestamps of the key frames (IDR slices, single or the start of an FU-A) in H.264 RTP packets. */
function keyFrameTimestamps(packets: Buffer[]): number[] {
  const timestamps = new Set<number>();
  for (const packet of packets) {
    const payload = packet.subarray(rtpHeaderLength(packet));
    const nalType = payload[0]! & 0x1f;
    const fragmentStart = nalType === 28 && (payload[1]! & 0x80) !== 0;
    if (nalType === 5 || (fragmentStart && (payload[1]! & 0x1f) === 5)) timestamps.add(packet.readUInt32BE(4));
  }
  return [...timestamps];
}

function next(job: IngestJob, event: 'live' | 'ended' | 'listening', timeoutMs = 15_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    job.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

describe('IngestJob', () => {
  let sfu: Sfu | undefined;
  const sockets: Socket[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const socket of sockets.splice(0)) socket.close();
    expect(liveFfmpegCount()).toBe(0);
    sfu?.close();
  });

  /** A router, and an IngestJob on it listening for RTMP on a free loopback port. */
  async function rtmpJob(feedId: string, transcode?: boolean) {
    sfu = await Sfu.create(config, logger);
    const router = (await sfu.openMeeting('drones')).router;
    const before = await router.dump();
    const port = await freeTcpPort();
    const source = { kind: 'rtmp-listen' as const, port, path: 'live/drone1', host: '127.0.0.1' };
    const job = await IngestJob.start({ feedId, router, source, listenIp: config.listenIps[0]!, logger, transcode });
    cleanups.push(() => job.stop());
    return { router, before, port, job };
  }

  it('forwards an RTMP push as H.264 without re-encoding and Opus, reconnects, and leaves nothing behind', async () => {
    const { router, before, port, job } = await rtmpJob('drone-1');
    const [videoProducer, audioProducer] = job.producers;
    expect(videoProducer!.rtpParameters.codecs[0]!.mimeType).toBe('video/H264');
    expect(audioProducer!.rtpParameters.codecs[0]!.mimeType).toBe('audio/opus');
    expect(job.producers.map((producer) => producer.appData)).toEqual([
      { participantId: 'drone-1', source: 'camera' },
      { participantId: 'drone-1', source: 'microphone' },
    ]);
    const video = await sink(router, videoProducer!, sockets);
    const audio = await sink(router, audioProducer!, sockets);

    let live = next(job, 'live');
    const ended = next(job, 'ended');
    const listeningAgain = next(job, 'listening', 25_000);
    const firstPush = push(port, 4);
    cleanups.push(() => firstPush.stop());
    await live;
    await ended;
    expect(video.packets.length).toBeGreaterThan(20);
    expect(payloadTypes(video.packets)).toEqual([video.consumer.rtpParameters.codecs[0]!.payloadType]);
    expect(spsProfile(video.packets)).toBe(H264_PROFILE_HIGH); // what the pusher encoded: forwarded, not re-encoded
    expect(audio.packets.length).toBeGreaterThan(20);
    expect(audio.consumer.rtpParameters.codecs[0]!.mimeType).toBe('audio/opus');
    expect(payloadTypes(audio.packets)).toEqual([audio.consumer.rtpParameters.codecs[0]!.payloadType]);

    const received = video.packets.length;
    await listeningAgain;
    live = next(job, 'live');
    const secondPush = push(port, 2);
    cleanups.push(() => secondPush.stop());
    await live;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(video.packets.length).toBeGreaterThan(received); // the same producers carry the new push

    const stopped = new Promise<void>((resolve) => job.once('stopped', resolve));
    const consumersClosed = Promise.all([video, audio].map(({ consumer }) => new Promise((resolve) => consumer.once('producerclose', resolve))));
    await job.stop();
    await stopped;
    await secondPush.stop();
    expect(liveFfmpegCount()).toBe(0);
    expect(job.producers.every((producer) => producer.closed)).toBe(true);
    await consumersClosed;
    const after = await router.dump();
    expect(after.mapProducerIdConsumerIds).toEqual(before.mapProducerIdConsumerIds);
    expect(after.transportIds.length).toBe(before.transportIds.length + 2); // the two sinks' transports
  }, 40_000);

  it('re-encodes to H.264 baseline with regular key frames when asked', async () => {
    const { router, port, job } = await rtmpJob('camera-1', true);
    const [videoProducer] = job.producers;
    expect(videoProducer!.rtpParameters.codecs[0]!.parameters).toMatchObject({ 'profile-level-id': '42e01f', 'packetization-mode': 1 });
    const video = await sink(router, videoProducer!, sockets);
    const ended = next(job, 'ended');
    const pusher = push(port, 5, 300); // one key frame from the publisher
    cleanups.push(() => pusher.stop());
    await ended;
    expect(spsProfile(video.packets)).toBe(H264_PROFILE_BASELINE);
    expect(keyFrameTimestamps(video.packets).length).toBeGreaterThanOrEqual(2);
  }, 20_000);

  it('refuses a source it cannot read, leaving nothing open', async () => {
    sfu = await Sfu.create(config, logger);
    const router = (await sfu.openMeeting('drones')).router;
    const before = await router.dump();
    const options = { feedId: 'camera-2', router, listenIp: config.listenIps[0]!, logger, maxRestarts: 0 };
    const closedPort = await freeTcpPort();
    await expect(IngestJob.start({ ...options, source: { kind: 'rtsp', url: `rtsp://127.0.0.1:${closedPort}/cam` } })).rejects.toThrow(
      IngestSourceError,
    );
    const dir = await mkdtemp(join(tmpdir(), 'ingest-test-'));
    const ffmpegWithoutSrt = join(dir, 'ffmpeg');
    await writeFile(ffmpegWithoutSrt, "#!/bin/sh\nprintf 'Supported file protocols:\\nInput:\\n  file\\n  rtmp\\nOutput:\\n  file\\n  srt\\n'\n", { mode: 0o755 });
    const srt = IngestJob.start({ ...options, source: { kind: 'srt', url: 'srt://127.0.0.1:9000' }, ffmpegPath: ffmpegWithoutSrt });
    await expect(srt).rejects.toThrow(/built without SRT/);
    await rm(dir, { recursive: true });
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as { port: number };
    const listen = IngestJob.start({ ...options, source: { kind: 'rtmp-listen', port, path: 'live/x', host: '127.0.0.1' } });
    await expect(listen).rejects.toThrow(new IngestSourceError(`rtmp port ${port} is in use`));
    await new Promise((resolve) => taken.close(resolve));
    expect(liveFfmpegCount()).toBe(0);
    expect((await router.dump()).transportIds).toEqual(before.transportIds);
  }, 20_000);

  it('pulls an SRT camera and re-encodes its H.264 with B-frames', async () => {
    sfu = await Sfu.create(config, logger);
    const router = (await sfu.openMeeting('cameras')).router;
    const port = await freeUdpPort();
    const camera = srtCamera(port);
    cleanups.push(() => camera.stop());
    await new Promise((resolve) => setTimeout(resolve, 500));
    const source = { kind: 'srt' as const, url: `srt://127.0.0.1:${port}?mode=caller` };
    const job = await IngestJob.start({ feedId: 'camera-3', router, source, listenIp: config.listenIps[0]!, logger, restartDelayMs: 200 });
    cleanups.push(() => job.stop());
    const [videoProducer, audioProducer] = job.producers;
    expect(videoProducer!.rtpParameters.codecs[0]!.parameters).toMatchObject({ 'profile-level-id': '42e01f' });
    expect(audioProducer!.kind).toBe('audio');
    const video = await sink(router, videoProducer!, sockets);
    await next(job, 'live');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(spsProfile(video.packets)).toBe(H264_PROFILE_BASELINE);
  }, 20_000);
});
