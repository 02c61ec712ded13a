// The RTMP publish server with real ffmpeg publishers (and a hand-driven client for what ffmpeg
// will not do): an accepted push is handed on as FLV that ffmpeg reads back; stream keys and apps
// are refused with a reason; garbage, misuse, stalls and unread output close one connection only.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegProcess, liveFfmpegCount } from '../src/index.js';
import { MessageType } from '../src/bridge/rtmp/chunkStream.js';
import type { RtmpPublisher } from '../src/bridge/rtmp/RtmpPublisher.js';
import { RtmpServer, type RtmpServerOptions } from '../src/bridge/rtmp/RtmpServer.js';
import { RawRtmpClient } from './rtmpClient.js';

const run = promisify(execFile);
const logger = pino({ level: process.env.RTMP_LOG ?? 'silent' });
const STREAM_KEY = 'key1';

interface PushOptions {
  size?: string;
  seconds?: number;
  bFrames?: number;
  path?: string;
  onStderrLine?: (line: string) => void;
}

/** A drone controller's push: H.264 High (yuv420p) + AAC over RTMP. */
function push(port: number, options: PushOptions = {}): FfmpegProcess {
  const { size = '320x180', seconds = 2, bFrames = 0, path = `live/${STREAM_KEY}` } = options;
  return new FfmpegProcess(
    'drone',
    [
      '-re', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=30:duration=${seconds}`,
      '-re', '-f', 'lavfi', '-i', `sine=duration=${seconds}`,
      '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p', '-bf', String(bFrames), '-g', '30',
      '-c:a', 'aac', '-f', 'flv', `rtmp://127.0.0.1:${port}/${path}`,
    ],
    logger,
    { onStderrLine: options.onStderrLine },
  );
}

function nextPublish(server: RtmpServer, timeoutMs = 10_000): Promise<RtmpPublisher> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no publish within ${timeoutMs} ms`)), timeoutMs);
    server.once('publish', (publisher) => {
      clearTimeout(timer);
      resolve(publisher);
    });
  });
}

function closeReason(publisher: RtmpPublisher): Promise<string> {
  return new Promise((resolve) => publisher.once('close', resolve));
}

/** A hand-driven client that publishes key1, the publisher the server made of it, and that publisher's close reason. */
async function rawPublish(server: RtmpServer): Promise<{ client: RawRtmpClient; publisher: RtmpPublisher; closed: Promise<string> }> {
  const client = await RawRtmpClient.open(server.port);
  const published = nextPublish(server);
  expect(await client.publish('live', STREAM_KEY)).toMatchObject({ code: 'NetStream.Publish.Start' });
  const publisher = await published;
  return { client, publisher, closed: closeReason(publisher) };
}

/** Resolves with how long the server took to close a raw socket that sent `bytes`. */
function closedAfterSending(port: number, bytes: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      const sentAt = Date.now();
      socket.write(bytes);
      socket.on('close', () => resolve(Date.now() - sentAt));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)));
  });
}

/** An H.264 inter frame tag of `size` bytes: the server reads its header, not its NAL units. */
function videoFrameTag(size: number): Buffer {
  const tag = Buffer.alloc(size);
  tag.set([0x27, 1, 0, 0, 0]);
  return tag;
}

function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  return new Promise((resolve) => stream.once('end', () => resolve(Buffer.concat(parts))));
}

/** The tags of an FLV file, checking its header and every PreviousTagSize on the way. */
function flvTags(flv: Buffer): { type: number; timestamp: number; size: number }[] {
  expect(flv.subarray(0, 3).toString()).toBe('FLV');
  expect(flv.readUInt32BE(9)).toBe(0);
  const tags = [];
  for (let offset = 13; offset < flv.length; ) {
    const size = flv.readUIntBE(offset + 1, 3);
    const timestamp = (flv[offset + 7]! * 2 ** 24 + flv.readUIntBE(offset + 4, 3)) >>> 0;
    tags.push({ type: flv[offset]!, timestamp, size });
    expect(flv.readUInt32BE(offset + 11 + size)).toBe(11 + size);
    offset += 11 + size + 4;
  }
  return tags;
}

describe('RtmpServer', () => {
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(liveFfmpegCount()).toBe(0);
  });

  async function listen(options: Partial<RtmpServerOptions> = {}): Promise<{ server: RtmpServer; authorized: string[] }> {
    const authorized: string[] = [];
    const server = await RtmpServer.listen({
      port: 0,
      host: '127.0.0.1',
      logger,
      authorize: async ({ app, streamKey, remoteAddress }) => {
        authorized.push(`${app}/${streamKey} from ${remoteAddress.split(':')[0]}`);
        return streamKey === STREAM_KEY ? null : 'unknown stream key';
      },
      ...options,
    });
    cleanups.push(() => server.close());
    return { server, authorized };
  }

  function started(ffmpeg: FfmpegProcess): FfmpegProcess {
    cleanups.push(() => ffmpeg.stop(0));
    return ffmpeg;
  }

  it('hands an ffmpeg push of H.264 High + AAC on as FLV that ffmpeg copies to Matroska', async () => {
    const { server, authorized } = await listen();
    const dir = await mkdtemp(join(tmpdir(), 'rtmp-test-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const published = nextPublish(server);
    started(push(server.port, { size: '1280x720', seconds: 3 }));
    const publisher = await published;
    expect(authorized).toEqual(['live/key1 from 127.0.0.1']);
    expect(publisher).toMatchObject({ app: 'live', streamKey: STREAM_KEY });
    const closed = closeReason(publisher);
    const video = await publisher.whenVideoKnown(5000);
    expect(video).toMatchObject({ codec: 'h264', codecId: 7, profile: 'High', width: 1280, height: 720, hasBFrames: false });
    expect(video!.profileLevelId).toMatch(/^6400[0-9a-f]{2}$/);
    expect(publisher.metadata).toMatchObject({ width: 1280, height: 720, videocodecid: 7, audiocodecid: 10 });

    // Attached after the first tags came: the FLV still starts at its header.
    const out = join(dir, 'out.mkv');
    const copy = started(new FfmpegProcess('copy', ['-f', 'flv', '-i', 'pipe:0', '-c', 'copy', '-f', 'matroska', out], logger, { stdin: true }));
    const flvEnded = new Promise((resolve) => publisher.flv.once('end', resolve));
    publisher.flv.pipe(copy.stdin!);
    const framesEarly = publisher.videoFrames;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(publisher.videoFrames).toBeGreaterThan(framesEarly);

    expect(await closed).toBe('publisher ended');
    await flvEnded;
    expect((await copy.exited).code).toBe(0);
    expect(publisher.videoFrames).toBeGreaterThanOrEqual(80);
    expect(publisher.keyFrames).toBeGreaterThanOrEqual(3);
    expect(publisher.audioFrames).toBeGreaterThanOrEqual(100);
    expect(publisher.bytesReceived).toBeGreaterThan(100_000);
    expect(publisher.audio).toMatchObject({ codec: 'aac', sampleRate: 44100, channels: 1 });

    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,profile,width,height', '-of', 'json', out]);
    const streams = (JSON.parse(stdout) as { streams: Record<string, unknown>[] }).streams;
    expect(streams).toEqual([
      expect.objectContaining({ codec_name: 'h264', profile: 'High', width: 1280, height: 720 }),
      expect.objectContaining({ codec_name: 'aac' }),
    ]);
  }, 20_000);

  it('sees B-frames and reads a cropped SPS size', async () => {
    const { server } = await listen();
    const published = nextPublish(server);
    started(push(server.port, { bFrames: 2 }));
    const publisher = await published;
    publisher.flv.resume();
    const closed = closeReason(publisher);
    expect(await publisher.whenVideoKnown(5000)).toMatchObject({ codec: 'h264', profile: 'High', width: 320, height: 180 });
    expect(await closed).toBe('publisher ended');
    expect(publisher.video!.hasBFrames).toBe(true);
  }, 15_000);

  it('refuses a wrong stream key and a wrong app, and ffmpeg says why', async () => {
    const { server, authorized } = await listen();
    let published = false;
    server.on('publish', () => (published = true));
    const wrongKey: string[] = [];
    const wrongApp: string[] = [];
    const startedAt = Date.now();
    const [keyExit, appExit] = await Promise.all([
      started(push(server.port, { path: 'live/guessed', onStderrLine: (line) => wrongKey.push(line) })).exited,
      started(push(server.port, { path: 'vod/key1', onStderrLine: (line) => wrongApp.push(line) })).exited,
    ]);
    expect(Date.now() - startedAt).toBeLessThan(4000);
    expect(keyExit.code).not.toBe(0);
    expect(appExit.code).not.toBe(0);
    expect(wrongKey.join('\n')).toContain('unknown stream key');
    expect(wrongApp.join('\n')).toContain("unknown application 'vod'");
    expect(authorized).toEqual(['live/guessed from 127.0.0.1']);
    expect(published).toBe(false);
  }, 15_000);

  it('closes garbage and misuse, each on its own, and goes on serving', async () => {
    const { server } = await listen({ handshakeTimeoutMs: 300 });
    const { port } = server;
    const http = Buffer.from('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const [httpMs, randomMs, stalledHandshakeMs] = await Promise.all([
      closedAfterSending(port, http),
      closedAfterSending(port, Buffer.concat([Buffer.of(0xff), randomBytes(4000)])),
      closedAfterSending(port, Buffer.of(3)),
    ]);
    expect(httpMs).toBeLessThan(200);
    expect(randomMs).toBeLessThan(200);
    expect(stalledHandshakeMs).toBeGreaterThanOrEqual(250);
    expect(stalledHandshakeMs).toBeLessThan(1000);

    const oversize = await RawRtmpClient.open(port);
    await oversize.handshake();
    oversize.message(MessageType.Video, 1, 0, Buffer.alloc(9 * 1024 * 1024));
    const beforeConnect = await RawRtmpClient.open(port);
    await beforeConnect.handshake();
    beforeConnect.command(1, 'publish', 1, null, STREAM_KEY, 'live');
    const unknown = await RawRtmpClient.open(port);
    await unknown.handshake();
    unknown.command(0, 'connect', 1, { app: 'live' });
    unknown.command(0, 'launchMissiles', 2, null);
    await Promise.all([oversize.closed, beforeConnect.closed, unknown.closed]);

    const player = await RawRtmpClient.open(port);
    await player.handshake();
    player.command(0, 'connect', 1, { app: 'live' });
    expect((await player.nextCommand())[0]).toBe('_result');
    player.command(1, 'play', 2, null, STREAM_KEY);
    expect((await player.nextCommand())[3]).toMatchObject({ level: 'error', code: 'NetStream.Play.Failed' });
    await player.closed;

    const twice = await rawPublish(server);
    twice.client.command(1, 'publish', 4, null, STREAM_KEY, 'live');
    expect(await twice.closed).toBe('protocol error');
    await twice.client.closed;

    const published = nextPublish(server);
    started(push(port, { seconds: 1 }));
    const real = await published;
    real.flv.resume();
    expect(await closeReason(real)).toBe('publisher ended');
    expect(real.videoFrames).toBeGreaterThan(20);
  }, 20_000);

  it('drops a publisher whose media stops for idleTimeoutMs', async () => {
    const { server } = await listen({ idleTimeoutMs: 500 });
    const { client, publisher, closed } = await rawPublish(server);
    const flv = collect(publisher.flv);
    // Past 2^24 ms (4.6 h on air): extended timestamps, in every chunk of these multi-chunk messages.
    const timestamps = [0, 1, 2, 3, 4].map((i) => 0xfffff0 + i * 33);
    for (const timestamp of timestamps) {
      client.message(MessageType.Video, 1, timestamp, videoFrameTag(150_000));
      await new Promise((resolve) => setTimeout(resolve, 200)); // under the idle timeout each time
    }
    const stalledAt = Date.now();
    expect(await closed).toBe('idle timeout');
    expect(Date.now() - stalledAt).toBeGreaterThanOrEqual(250);
    expect(publisher.videoFrames).toBe(5);
    expect(flvTags(await flv)).toEqual(timestamps.map((timestamp) => ({ type: 9, timestamp, size: 150_000 })));
    await client.closed;
  });

  it('drops a publisher whose flv is not read past the buffer bound, and closes the rest on close()', async () => {
    const { server } = await listen({ maxConnections: 2 });
    const flooder = await rawPublish(server); // nobody reads its flv
    for (let i = 0; i < 17; i++) flooder.client.message(MessageType.Video, 1, i * 33, videoFrameTag(1024 * 1024));
    expect(await flooder.closed).toBe('consumer too slow');
    await flooder.client.closed;

    const quiet = await rawPublish(server);
    const other = await RawRtmpClient.open(server.port);
    const overLimit = await RawRtmpClient.open(server.port);
    await overLimit.closed; // a third connection at once is over maxConnections
    await server.close();
    expect(await quiet.closed).toBe('closed by server');
    await Promise.all([quiet.client.closed, other.closed]);
  });
});
