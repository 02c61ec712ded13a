// kill -9 of the whole server while it records: the server runs as its own process (node
// signaling/dist/main.js), a unit sends VP8 + Opus from ffmpeg over plain RTP, the chair starts
// recording, and the server is killed outright. Its ffmpegs must not outlive it, the track files
// must play up to the last ~2 s, and the next server start recovers the recording (interrupted,
// with a composite) and lists it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FfmpegProcess } from '@cityconf/sfu';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth/tokens.js';
import { DEV_AUTH, DEV_OPERATOR_API_KEY } from '../src/config.js';
import { connect, ok, type TestClient } from './client.js';

const run = promisify(execFile);
const PORT = 47_330;
const RECORD_SECONDS = 8;
const root = fileURLToPath(new URL('../..', import.meta.url));
const logger = pino({ level: 'silent' });

let dataDir: string;
let server: ChildProcess | undefined;
let source: FfmpegProcess | undefined;
const clients: TestClient[] = [];

/** The product as operators run it, in its own process, on the test's port range. */
async function startServerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'signaling/dist/main.js')], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(PORT),
      DATA_DIR: dataDir,
      NUM_WORKERS: '1',
      RTC_MIN_PORT: '47400',
      RTC_MAX_PORT: '47599',
      RTMP_PORT: '-1',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    const healthy = await fetch(`http://127.0.0.1:${PORT}/healthz`).then((response) => response.ok, () => false);
    if (healthy) return child;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill('SIGKILL');
  throw new Error('the server did not come up in 20 s');
}

/** ffmpeg processes whose parent is `pid` (the server's, if any survived it). */
async function ffmpegChildrenOf(pid: number): Promise<string[]> {
  const { stdout } = await run('ps', ['-e', '-o', 'pid=,ppid=,args=']);
  return stdout.split('\n').filter((line) => {
    const [, ppid, ...args] = line.trim().split(/\s+/);
    return ppid === String(pid) && args.join(' ').includes('ffmpeg');
  });
}

async function api(path: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(`http://127.0.0.1:${PORT}${path}`, { ...init, headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...init.headers } });
  return response.json();
}

beforeAll(async () => {
  await run('npx', ['--no-install', 'tsc', '-b'], { cwd: root }); // the server process runs the built code
  dataDir = mkdtempSync(join(tmpdir(), 'cityconf-crash-'));
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await source?.stop(1000);
  server?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('kill -9 of the server while recording', () => {
  it('leaves playable track files and no ffmpeg, and the next start recovers the recording', async () => {
    server = await startServerProcess();
    const url = `http://127.0.0.1:${PORT}`;
    const joinAs = async (identity: string, role: 'chair' | 'participant') => {
      const client = await connect(url);
      clients.push(client);
      const token = await mintToken(DEV_AUTH, { room: 'crash', identity, name: identity, role, unitId: identity });
      await ok(client, 'join', { meetingId: 'crash', token });
      return client;
    };
    const chair = await joinAs('chair', 'chair');
    const microphoneUnit = await joinAs('county-a', 'participant');
    const cameraUnit = await joinAs('county-b', 'participant');

    // Two terminals send Opus and VP8 from ffmpeg (RTCP on its own port: ffmpeg sends it first).
    const audio = await ok(microphoneUnit, 'createPlainTransport', { direction: 'send', rtcpMux: false });
    await ok(microphoneUnit, 'produce', {
      transportId: audio.id, kind: 'audio', source: 'microphone',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1111 }] },
    });
    const video = await ok(cameraUnit, 'createPlainTransport', { direction: 'send', rtcpMux: false });
    await ok(cameraUnit, 'produce', {
      transportId: video.id, kind: 'video', source: 'camera',
      rtpParameters: { codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000 }], encodings: [{ ssrc: 2222 }] },
    });
    source = new FfmpegProcess('terminal', [
      '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-re', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15',
      '-map', '0:a', '-c:a', 'libopus', '-b:a', '32k', '-payload_type', '100', '-ssrc', '1111', '-f', 'rtp', `rtp://127.0.0.1:${audio.port}?rtcpport=${audio.rtcpPort}`,
      '-map', '1:v', '-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k', '-g', '15',
      '-payload_type', '101', '-ssrc', '2222', '-f', 'rtp', `rtp://127.0.0.1:${video.port}?rtcpport=${video.rtcpPort}`,
    ], logger);

    const { recordingId } = await ok(chair, 'startRecording', {});
    const tracks = async () => (await api(`/api/recordings/${recordingId}`)).tracks as { file: string; kind: string }[];
    await expect.poll(async () => (await tracks()).length, { timeout: 15_000 }).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, RECORD_SECONDS * 1000));

    const pid = server.pid!;
    expect(await ffmpegChildrenOf(pid)).toHaveLength(2);
    server.kill('SIGKILL');
    await new Promise((resolve) => server!.once('exit', resolve));
    // The parent-death signal kills the recording ffmpegs (re-parented to init, so look by their SDP path).
    const recordingFfmpegs = async () =>
      (await run('ps', ['-e', '-o', 'args='])).stdout.split('\n').filter((line) => line.includes('ffmpeg') && line.includes(`cityconf-bridge-recording_${recordingId}`));
    await expect.poll(async () => (await recordingFfmpegs()).length, { timeout: 10_000 }).toBe(0);

    // The files play, missing at most the last ~2 s.
    const dir = join(dataDir, 'recordings', 'crash', recordingId);
    const { stdout: listing } = await run('ls', [dir]);
    const files = listing.split('\n').filter((name) => /\.(webm|mkv)$/.test(name));
    expect(files).toHaveLength(2);
    for (const file of files) {
      const { stdout } = await run('ffprobe', ['-v', 'error', '-count_packets', '-show_entries', 'stream=codec_name,nb_read_packets', '-of', 'json', join(dir, file)]);
      const [stream] = (JSON.parse(stdout) as { streams: { codec_name: string; nb_read_packets: string }[] }).streams;
      expect(['vp8', 'opus']).toContain(stream!.codec_name);
      // 15 fps video / 50 packets per second of Opus, over the recorded time less 2.5 s.
      const perSecond = stream!.codec_name === 'vp8' ? 15 : 50;
      expect(Number(stream!.nb_read_packets)).toBeGreaterThan((RECORD_SECONDS - 2.5) * perSecond);
    }

    // The next start recovers it: interrupted, durations repaired, a composite made, listed.
    server = await startServerProcess();
    await expect.poll(async () => (await api(`/api/recordings/${recordingId}`)).status, { timeout: 60_000, interval: 500 }).toBe('interrupted');
    await expect.poll(async () => (await api(`/api/recordings/${recordingId}`)).composite, { timeout: 60_000, interval: 500 }).not.toBeNull();
    const recovered = await api(`/api/recordings/${recordingId}`);
    expect(recovered.durationS).toBeGreaterThan(RECORD_SECONDS - 2.5);
    const { items } = await api('/api/meetings/crash/recordings');
    expect(items.map((item: { id: string }) => item.id)).toEqual([recordingId]);
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
  }, 150_000);
});
