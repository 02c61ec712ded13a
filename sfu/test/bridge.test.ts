// The RTP bridge between mediasoup and ffmpeg: the SDP ffmpeg reads, and egress jobs recording
// producers fed by a real ffmpeg, supervised through crashes, leaving nothing behind.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { FfmpegProcess, liveFfmpegCount, receiveSdp, RtpBridge, Sfu, type mediasoupTypes as ms } from '../src/index.js';
import { testSfuConfig } from './config.js';

const run = promisify(execFile);
const config = testSfuConfig(44000);
const logger = pino({ level: process.env.BRIDGE_LOG ?? 'silent' });

describe('receiveSdp', () => {
  it('writes one m-line per stream with the codec ffmpeg must expect', () => {
    const sdp = receiveSdp([
      {
        kind: 'audio',
        port: 20000,
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
          encodings: [{ ssrc: 1 }],
        },
      },
      {
        kind: 'video',
        port: 20002,
        rtpParameters: {
          codecs: [
            { mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: { 'x-google-start-bitrate': 1000 } },
            { mimeType: 'video/rtx', payloadType: 102, clockRate: 90000, parameters: { apt: 101 } },
          ],
          encodings: [{ ssrc: 2 }],
        },
      },
      {
        kind: 'video',
        port: 20004,
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/H264',
              payloadType: 107,
              clockRate: 90000,
              parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
            },
          ],
        },
      },
    ]);
    expect(sdp.split('\r\n')).toEqual([
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=cityconf rtp bridge',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 20000 RTP/AVP 100',
      'a=rtpmap:100 opus/48000/2',
      'a=fmtp:100 useinbandfec=1',
      'a=recvonly',
      'm=video 20002 RTP/AVP 101',
      'a=rtpmap:101 VP8/90000',
      'a=recvonly',
      'm=video 20004 RTP/AVP 107',
      'a=rtpmap:107 H264/90000',
      'a=fmtp:107 packetization-mode=1;profile-level-id=42e01f;level-asymmetry-allowed=1',
      'a=recvonly',
      '',
    ]);
  });

  it('refuses streams it cannot describe', () => {
    expect(() => receiveSdp([])).toThrow(RangeError);
    const rtxOnly = { codecs: [{ mimeType: 'video/rtx', payloadType: 102, clockRate: 90000 }] };
    expect(() => receiveSdp([{ kind: 'video', port: 20000, rtpParameters: rtxOnly }])).toThrow(/no media codec/);
  });
});

describe('RtpBridge egress', () => {
  let sfu: Sfu | undefined;
  let dir: string | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(liveFfmpegCount()).toBe(0);
    sfu?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** A router with an Opus and a VP8 producer fed by an ffmpeg that synthesizes both. */
  async function syntheticProducers() {
    sfu = await Sfu.create(config, logger);
    dir = await mkdtemp(join(tmpdir(), 'bridge-test-'));
    const router = (await sfu.openMeeting('recorded')).router;
    const sources = [
      { kind: 'audio' as const, mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, ssrc: 1111 },
      {
        kind: 'video' as const,
        mimeType: 'video/VP8',
        payloadType: 101,
        clockRate: 90000,
        rtcpFeedback: [{ type: 'nack', parameter: 'pli' }],
        ssrc: 2222,
      },
    ];
    const producers: ms.Producer[] = [];
    const urls: string[] = [];
    for (const { kind, ssrc, ...codec } of sources) {
      const transport = await router.createPlainTransport({ listenIp: config.listenIps[0]!, rtcpMux: false, comedia: true });
      producers.push(await transport.produce({ kind, rtpParameters: { codecs: [codec], encodings: [{ ssrc }] } }));
      // ffmpeg sends RTCP from another local port than RTP, and an SR first: RTCP must have its own
      // port, or comedia would take the RTCP socket for the sender.
      urls.push(`rtp://127.0.0.1:${transport.tuple.localPort}?rtcpport=${transport.rtcpTuple!.localPort}`);
    }
    const source = new FfmpegProcess('source', [
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15',
      '-map', '0:a', '-c:a', 'libopus', '-b:a', '32k', '-payload_type', '100', '-ssrc', '1111', '-f', 'rtp', urls[0]!,
      '-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15',
      '-payload_type', '101', '-ssrc', '2222', '-f', 'rtp', urls[1]!,
    ], logger);
    cleanups.push(() => source.stop());
    return { router, producers };
  }

  async function transportsAndConsumers(router: ms.Router) {
    const { transportIds, mapProducerIdConsumerIds } = await router.dump();
    return { transports: transportIds.length, consumers: Object.values(mapProducerIdConsumerIds as Record<string, string[]>).flat().length };
  }

  async function probe(file: string) {
    const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name:format=duration', '-of', 'json', file]);
    const { streams, format } = JSON.parse(stdout) as { streams: { codec_name: string }[]; format: { duration: string } };
    return { codecs: streams.map((stream) => stream.codec_name).sort(), duration: Number(format.duration) };
  }

  const recordTo = (file: (run: number) => string) => (run: number) => ['-c', 'copy', '-y', file(run)];

  it('records Opus and VP8 producers to WebM and leaves nothing behind', async () => {
    const { router, producers } = await syntheticProducers();
    const before = await transportsAndConsumers(router);
    const file = join(dir!, 'recording.webm');
    const bridge = await RtpBridge.start({
      jobId: 'recording-1',
      router,
      producers,
      listenIp: config.listenIps[0]!,
      outputArgs: recordTo(() => file),
      logger,
    });
    cleanups.push(() => bridge.stop());
    expect(await transportsAndConsumers(router)).toEqual({ transports: before.transports + 2, consumers: 2 });
    expect(bridge.consumers.map((consumer) => consumer.paused)).toEqual([false, false]);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // ffmpeg needs a key frame before it writes any VP8: the bridge asks for one, and the camera's
    // own periodic one may come first (the SFU then drops the request), so the proof is the file.
    const stopped = new Promise<void>((resolve) => bridge.once('stopped', resolve));
    await bridge.stop();
    await stopped;
    expect(liveFfmpegCount()).toBe(1); // the source only
    expect(await transportsAndConsumers(router)).toEqual(before);
    const recording = await probe(file);
    expect(recording.codecs).toEqual(['opus', 'vp8']);
    expect(recording.duration).toBeGreaterThanOrEqual(1.5);
  });

  it('restarts an ffmpeg killed mid-job, and the job records again', async () => {
    const { router, producers } = await syntheticProducers();
    const before = await transportsAndConsumers(router);
    const file = (run: number) => join(dir!, `part-${run}.webm`);
    const bridge = await RtpBridge.start({
      jobId: 'recording-2',
      router,
      producers,
      listenIp: config.listenIps[0]!,
      outputArgs: recordTo(file),
      logger,
      restartDelayMs: 200,
    });
    cleanups.push(() => bridge.stop());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const restarted = new Promise<number>((resolve) => bridge.once('restarted', resolve));
    process.kill(bridge.ffmpegPid!, 'SIGKILL');
    expect(await restarted).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await bridge.stop();
    expect(await transportsAndConsumers(router)).toEqual(before);
    const recording = await probe(file(1));
    expect(recording.codecs).toEqual(['opus', 'vp8']);
    expect(recording.duration).toBeGreaterThanOrEqual(1.5);
  });

  it('fails cleanly when ffmpeg dies and no restart is allowed', async () => {
    const { router, producers } = await syntheticProducers();
    const before = await transportsAndConsumers(router);
    const bridge = await RtpBridge.start({
      jobId: 'recording-3',
      router,
      producers: producers.slice(0, 1),
      listenIp: config.listenIps[0]!,
      outputArgs: recordTo(() => join(dir!, 'lost.webm')),
      logger,
      maxRestarts: 0,
    });
    const failed = new Promise<Error>((resolve) => bridge.once('failed', resolve));
    process.kill(bridge.ffmpegPid!, 'SIGKILL');
    expect((await failed).message).toMatch(/signal SIGKILL.*gave up after 0 restarts/);
    expect(liveFfmpegCount()).toBe(1); // the source only
    expect(bridge.consumers.every((consumer) => consumer.closed)).toBe(true);
    expect(await transportsAndConsumers(router)).toEqual(before);
  });

  it('fails to start when ffmpeg rejects its arguments, closing what it opened', async () => {
    const { router, producers } = await syntheticProducers();
    const before = await transportsAndConsumers(router);
    const start = RtpBridge.start({
      jobId: 'recording-4',
      router,
      producers,
      listenIp: config.listenIps[0]!,
      outputArgs: () => ['-no-such-option'],
      logger,
      maxRestarts: 1,
      restartDelayMs: 100,
    });
    await expect(start).rejects.toThrow(/gave up after 1 restarts/);
    expect(await transportsAndConsumers(router)).toEqual(before);
  });
});
