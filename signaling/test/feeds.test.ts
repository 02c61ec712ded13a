// Drone and camera feeds end to end on a real server: the operator's feed API, a feed pulled
// from a real ffmpeg SRT camera going live in the command centre, shared into a meeting where its
// media reaches the meeting's router, and taken out again.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { FfmpegProcess, liveFfmpegCount } from '@cityconf/sfu';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import { COMMAND_CENTRE_MEETING_ID, type FeedStatus, type ServerEventName, type ServerEvents } from '../src/protocol.js';
import { ok, onEvent, request, type TestClient } from './client.js';
import { serverForFile } from './harness.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const SRT_PORT = 47_310;
const RTSP_PORT = 47_320;
const GARBAGE_PORT = 47_321;
const run = promisify(execFile);

const { server, joined } = serverForFile();

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${server().url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}


/** The first `event` that `matches`, batched or not. */
function eventWhere<E extends ServerEventName>(client: TestClient, event: E, matches: (payload: ServerEvents[E]) => boolean): Promise<ServerEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching ${event} within 10 s`));
    }, 10_000);
    const stop = onEvent(client, event, (payload) => {
      if (!matches(payload)) return;
      clearTimeout(timer);
      stop();
      resolve(payload);
    });
  });
}

/** A fixed camera serving H.264 (no B-frames) + AAC over SRT, served again when a caller leaves. */
function srtCamera(port: number): { stop(): Promise<void> } {
  let stopped = false;
  let current: FfmpegProcess;
  const serve = (): void => {
    current = new FfmpegProcess('camera', [
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=15', '-f', 'lavfi', '-i', 'sine',
      '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-bf', '0', '-pix_fmt', 'yuv420p', '-g', '15',
      '-c:a', 'aac', '-f', 'mpegts', `srt://127.0.0.1:${port}?mode=listener`,
    ], logger);
    void current.exited.then(() => stopped || serve());
  };
  serve();
  return {
    async stop() {
      stopped = true;
      await current.stop(1000);
    },
  };
}


describe('the feed API', () => {
  it('issues stream keys, validates sources, rotates keys and deletes feeds', async () => {
    expect((await api('POST', '/api/feeds', { name: '固定摄像头', kind: 'rtsp' })).json.error.message).toContain('url');
    expect((await api('POST', '/api/feeds', { name: '无人机', kind: 'rtmp', url: 'rtsp://x/y' })).status).toBe(400);
    expect((await api('POST', '/api/feeds', { name: '', kind: 'rtmp' })).status).toBe(400);

    const created = await api('POST', '/api/feeds', { name: '1号无人机（城东）', kind: 'rtmp' });
    expect(created.status).toBe(201);
    const feed = created.json;
    expect(feed.streamKey).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(feed.publish.rtmp).toMatch(new RegExp(`^rtmp://localhost:\\d+/live/${feed.streamKey}$`));
    expect(feed.status).toMatchObject({ state: 'waiting', sharedInto: [] });

    const rotated = await api('PATCH', `/api/feeds/${feed.id}`, { rotateKey: true });
    expect(rotated.json.streamKey).not.toBe(feed.streamKey);
    expect((await api('PATCH', `/api/feeds/${feed.id}`, { url: 'rtsp://a/b' })).status).toBe(400);
    expect((await api('GET', '/api/feeds')).json.items.map((item: { id: string }) => item.id)).toContain(feed.id);

    expect((await api('DELETE', `/api/feeds/${feed.id}`)).status).toBe(204);
    expect((await api('GET', `/api/feeds/${feed.id}`)).status).toBe(404);
    expect(server().feeds.status(feed.id)).toBeUndefined();
  });
});

/** A drone controller pushing `seconds` of H.264 (+ AAC unless `audio` is false) over RTMP, as DJI Pilot does. */
function push(url: string, seconds: number, { size = '640x360', codec = ['-c:v', 'libx264', '-profile:v', 'high', '-bf', '0'], audio = true } = {}): FfmpegProcess {
  return new FfmpegProcess('drone', [
    '-re', '-f', 'lavfi', '-i', `testsrc=size=${size}:rate=15:duration=${seconds}`,
    ...(audio ? ['-re', '-f', 'lavfi', '-i', `sine=duration=${seconds}`] : []),
    ...codec, '-preset', 'ultrafast', '-tune', 'zerolatency', '-pix_fmt', 'yuv420p', '-g', '15',
    ...(audio ? ['-c:a', 'aac'] : ['-an']), '-f', 'flv', url,
  ], logger);
}

describe('an RTMP drone feed', () => {
  it('refuses a wrong key, goes live without re-encoding H.264, and comes back on the same producers', async () => {
    const feed = (await api('POST', '/api/feeds', { name: '2号无人机', kind: 'rtmp' })).json;
    const url = feed.publish.rtmp as string;
    expect(url).toBe(`rtmp://localhost:${server().config.rtmpPort}/live/${feed.streamKey}`);
    const local = url.replace('localhost', '127.0.0.1');

    const intruder = push(local.replace(feed.streamKey, 'wrong-key'), 5);
    expect((await intruder.exited).code).not.toBe(0);
    expect(server().feeds.status(feed.id)?.state).toBe('waiting');

    const first = push(local, 4);
    await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 15_000 }).toBe('live');
    expect(server().feeds.status(feed.id)?.video).toMatchObject({ codec: 'h264', width: 640, height: 360, transcoded: false });
    const producers = server().sfu.meeting(COMMAND_CENTRE_MEETING_ID)!.participants.get(`feed-${feed.id}`)!.producers;
    const producerIds = [...producers.keys()].sort();
    expect(producerIds).toHaveLength(2);
    await first.exited;
    await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 10_000 }).toBe('reconnecting');

    // Many drones send no audio: the video still goes live, on the same producers.
    const video = [...producers.values()].find((producer) => producer.kind === 'video')!;
    const bytesBefore = (await video.getStats())[0]?.byteCount ?? 0;
    const again = push(local, 3, { audio: false });
    await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 15_000 }).toBe('live');
    expect([...producers.keys()].sort()).toEqual(producerIds);
    await expect.poll(async () => (await video.getStats())[0]?.byteCount ?? 0, { timeout: 10_000 }).toBeGreaterThan(bytesBefore + 10_000);
    await again.stop(1000);
    await api('DELETE', `/api/feeds/${feed.id}`);
  }, 60_000);

  it('re-encodes video that is not H.264, and refuses a picture larger than 4K', async () => {
    const feed = (await api('POST', '/api/feeds', { name: '3号无人机', kind: 'rtmp' })).json;
    const local = (feed.publish.rtmp as string).replace('localhost', '127.0.0.1');

    const sorenson = push(local, 4, { codec: ['-c:v', 'flv'] });
    await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 15_000 }).toBe('live');
    expect(server().feeds.status(feed.id)?.video).toMatchObject({ codec: 'other', transcoded: true });
    await sorenson.stop(1000);

    const huge = push(local, 3, { size: '4200x2400' });
    await expect.poll(() => server().feeds.status(feed.id)?.error ?? '', { timeout: 15_000 }).toContain('4200x2400');
    expect(server().feeds.status(feed.id)?.state).toBe('failed');
    await huge.stop(1000);
    await api('DELETE', `/api/feeds/${feed.id}`);
  }, 60_000);
});

/** A fixed camera: GStreamer's RTSP server (as in IP cameras) serving an H.264 High + AAC clip. */
async function rtspCamera(port: number, dir: string): Promise<{ url: string; stop(): void; stall(stalled: boolean): void }> {
  const clip = join(dir, 'camera.mp4');
  await run('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=15:duration=60', '-f', 'lavfi', '-i', 'sine=duration=60',
    '-c:v', 'libx264', '-profile:v', 'high', '-preset', 'veryfast', '-bf', '0', '-g', '15', '-pix_fmt', 'yuv420p', '-c:a', 'aac', clip,
  ]);
  const camera = spawn('/usr/bin/python3', [fileURLToPath(new URL('./fixtures/rtsp-camera.py', import.meta.url)), String(port), clip], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    camera.stdout.once('data', () => resolve());
    camera.once('exit', (code) => reject(new Error(`the RTSP camera exited (${code})`)));
  });
  return {
    url: `rtsp://127.0.0.1:${port}/camera`,
    stop: () => camera.kill('SIGCONT') && camera.kill('SIGTERM'),
    /** The camera hangs (SIGSTOP: connections stay open, nothing is sent) or comes back. */
    stall: (stalled: boolean) => camera.kill(stalled ? 'SIGSTOP' : 'SIGCONT'),
  };
}

describe('a pulled RTSP camera', () => {
  it('goes live without re-encoding, is read again after it hangs; a source that speaks garbage fails only its feed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cityconf-rtsp-'));
    const camera = await rtspCamera(RTSP_PORT, dir);
    const garbage = createServer((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nnot rtsp at all\n'));
    await new Promise<void>((resolve) => garbage.listen(GARBAGE_PORT, '127.0.0.1', resolve));
    try {
      const feed = (await api('POST', '/api/feeds', { name: '机场塔台摄像头', kind: 'rtsp', url: camera.url })).json;
      const broken = (await api('POST', '/api/feeds', { name: '损坏的摄像头', kind: 'rtsp', url: `rtsp://127.0.0.1:${GARBAGE_PORT}/x` })).json;
      await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 20_000 }).toBe('live');
      expect(server().feeds.status(feed.id)?.video).toMatchObject({ transcoded: false, width: 640, height: 360 });
      await expect.poll(() => server().feeds.status(broken.id)?.state, { timeout: 20_000 }).toBe('failed');
      expect(server().feeds.status(broken.id)?.error).toContain('could not probe');
      expect(server().feeds.status(feed.id)?.state).toBe('live');

      // A camera that hangs is noticed (ffmpeg's socket timeout) and read again when it is back.
      camera.stall(true);
      await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 20_000, interval: 500 }).not.toBe('live');
      camera.stall(false);
      await expect.poll(() => server().feeds.status(feed.id)?.state, { timeout: 30_000, interval: 500 }).toBe('live');
      await api('DELETE', `/api/feeds/${feed.id}`);
      await api('DELETE', `/api/feeds/${broken.id}`);
    } finally {
      camera.stop();
      garbage.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('the WHIP endpoint', () => {
  it('answers bad requests with a clear status and keeps nothing open', async () => {
    const feed = (await api('POST', '/api/feeds', { name: '执法记录仪', kind: 'whip' })).json;
    expect(feed.publish).toEqual({ whip: `${server().url}/whip/${feed.id}`, bearerToken: feed.streamKey });
    const post = (headers: Record<string, string>, body: string, path = `/whip/${feed.id}`) =>
      fetch(`${server().url}${path}`, { method: 'POST', headers, body });
    const sdp = { 'content-type': 'application/sdp' };
    expect((await post(sdp, 'v=0')).status).toBe(401);
    expect((await post({ ...sdp, authorization: 'Bearer wrong' }, 'v=0')).status).toBe(401);
    expect((await post({ ...sdp, authorization: `Bearer ${feed.streamKey}` }, 'v=0', '/whip/no-such-feed')).status).toBe(401);
    expect((await post({ 'content-type': 'text/plain', authorization: `Bearer ${feed.streamKey}` }, 'v=0')).status).toBe(415);
    const garbage = await post({ ...sdp, authorization: `Bearer ${feed.streamKey}` }, 'this is not sdp');
    expect(garbage.status).toBe(400);
    expect(await garbage.text()).toMatch(/v=0|SDP/);
    expect((await fetch(`${server().url}/whip/${feed.id}/no-such-session`, { method: 'DELETE' })).status).toBe(404);
    expect((await fetch(`${server().url}/whip/${feed.id}`, { method: 'GET' })).status).toBe(405);
    const preflight = await fetch(`${server().url}/whip/${feed.id}`, { method: 'OPTIONS' });
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    const participant = server().sfu.meeting(COMMAND_CENTRE_MEETING_ID)!.participants.get(`feed-${feed.id}`)!;
    expect(participant.producers.size).toBe(0);
    const router = await participant.mediaRouter();
    expect((await router.dump()).transportIds).toEqual([]);
    expect(server().feeds.status(feed.id)?.state).toBe('waiting');
    await api('DELETE', `/api/feeds/${feed.id}`);
  });
});

describe('a pulled SRT camera', () => {
  it('goes live in the command centre, is shared into a meeting with its media, and taken out again', async () => {
    const camera = srtCamera(SRT_PORT);
    try {
      const feed = (await api('POST', '/api/feeds', { name: '城东高点摄像头', kind: 'srt', url: `srt://127.0.0.1:${SRT_PORT}?mode=caller` })).json;
      const wall = await joined(COMMAND_CENTRE_MEETING_ID, 'wall-1', 'observer');
      let latest: FeedStatus[] = [];
      onEvent(wall, 'feeds', ({ feeds }) => (latest = feeds));
      await expect.poll(() => latest.find((status) => status.id === feed.id)?.state, { timeout: 20_000 }).toBe('live');
      const live = latest.find((status) => status.id === feed.id)!;
      expect(live.video).toMatchObject({ transcoded: false, width: 640, height: 360 });
      await expect.poll(() => latest.find((status) => status.id === feed.id)?.bitrateKbps ?? 0, { timeout: 10_000 }).toBeGreaterThan(10);
      const { feeds } = await ok(wall, 'listFeeds', {});
      expect(feeds.map((status) => status.id)).toContain(feed.id);

      // A unit may not share; the chair may.
      const chair = await joined('ops', 'chair-unit', 'chair');
      const unit = await joined('ops', 'town-unit', 'participant');
      const refused = await request(unit, 'shareFeed', { feedId: feed.id });
      expect(refused.ok || refused.error.code).toBe('FORBIDDEN');
      const joinedFeed = eventWhere(unit, 'participantJoined', ({ participant }) => participant.feedId === feed.id);
      await ok(chair, 'shareFeed', { feedId: feed.id });
      const { participant } = await joinedFeed;
      expect(participant).toMatchObject({ feedId: feed.id, name: '城东高点摄像头' });
      expect(participant.producers.map((producer) => producer.kind).sort()).toEqual(['audio', 'video']);

      // The feed's media reaches the meeting's router (relayed, not re-encoded).
      const inMeeting = server().sfu.meeting('ops')!.participants.get(participant.id)!;
      const video = [...inMeeting.producers.values()].find((producer) => producer.kind === 'video')!;
      expect(video.rtpParameters.codecs[0]!.mimeType).toBe('video/H264');
      await expect.poll(async () => (await video.getStats())[0]?.byteCount ?? 0, { timeout: 10_000 }).toBeGreaterThan(10_000);
      await expect.poll(() => server().feeds.status(feed.id)?.sharedInto).toEqual(['ops']);

      const left = eventWhere(unit, 'participantLeft', ({ participantId }) => participantId === participant.id);
      await ok(chair, 'unshareFeed', { feedId: feed.id });
      expect((await left).participantId).toBe(participant.id);
      expect(server().sfu.meeting('ops')!.participants.has(participant.id)).toBe(false);
      expect(server().feeds.status(feed.id)?.sharedInto).toEqual([]);

      // Sharing again, then everyone leaving the meeting takes the feed out with them.
      await ok(chair, 'shareFeed', { feedId: feed.id });
      chair.disconnect();
      unit.disconnect();
      await expect.poll(() => server().feeds.status(feed.id)?.sharedInto).toEqual([]);
      await expect.poll(() => server().sfu.meeting('ops')).toBeUndefined();
      expect(server().roster.get('ops')).toBeUndefined();

      await api('DELETE', `/api/feeds/${feed.id}`);
    } finally {
      await camera.stop();
    }
  }, 60_000);
});
