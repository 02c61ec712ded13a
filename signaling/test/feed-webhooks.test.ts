// Feeds and recordings reach a real local HTTP receiver as LiveKit ingress and egress webhooks,
// driven by real events: an RTMP drone pushed by ffmpeg, a camera that speaks garbage, and a chair
// recording the command centre. LiveKit's own WebhookReceiver verifies and parses every one.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EgressStatus, IngressInput, IngressState_Status } from '@livekit/protocol';
import { FfmpegProcess } from '@cityconf/sfu';
import { WebhookReceiver, type WebhookEvent } from 'livekit-server-sdk';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../src/config.js';
import { COMMAND_CENTRE_MEETING_ID } from '../src/protocol.js';
import { startServer, type RunningServer } from '../src/server.js';
import { connect, ok, type TestClient } from './client.js';
import { tokenFor } from './harness.js';

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const RECORD_SECONDS = 3;

let dataDir: string;
let server: RunningServer;
let receiver: Server;
const events: WebhookEvent[] = [];
const clients: TestClient[] = [];

async function startReceiver(): Promise<string> {
  receiver = createHttpServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const { apiKey, apiSecret } = server.config.auth;
    events.push(await new WebhookReceiver(apiKey, apiSecret).receive(Buffer.concat(chunks).toString('utf8'), request.headers.authorization));
    response.end();
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/livekit`;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cityconf-test-'));
  server = await startServer({
    host: '127.0.0.1',
    port: 0,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    dataDir,
    sfu: { numWorkers: 1, rtcMinPort: 46500, rtcMaxPort: 46999 },
    // Its own recordings directory: another server's recover() must not finish this one's recordings.
    recordings: { dir: join(dataDir, 'recordings') },
    webhookUrls: [await startReceiver()],
  });
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await server?.close();
  receiver.closeAllConnections();
  receiver.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function createFeed(body: { name: string; kind: string; url?: string }): Promise<{ id: string; streamKey: string; publish: { rtmp: string } }> {
  const response = await fetch(`${server.url}/api/feeds`, {
    method: 'POST',
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(201);
  return response.json();
}

async function deleteFeed(id: string): Promise<void> {
  await fetch(`${server.url}/api/feeds/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}` } });
}

/** The first received event named `name` about `id` (ingress or egress id). */
function received(name: string, id: string, timeout = 15_000): Promise<WebhookEvent> {
  const find = () => events.find((event) => event.event === name && (event.ingressInfo?.ingressId ?? event.egressInfo?.egressId) === id);
  return expect.poll(find, { timeout }).toBeDefined().then(() => find()!);
}

const nsToMs = (ns: bigint | undefined): number => Number((ns ?? 0n) / 1_000_000n);

describe('feed and recording webhooks', () => {
  it('an RTMP drone: ingress_started when live; a recording of it: egress_started, egress_ended with its files; the drone stops: ingress_ended', async () => {
    const feed = await createFeed({ name: '1号无人机（城东）', kind: 'rtmp' });
    const drone = new FfmpegProcess('drone', [
      '-re', '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=15', '-re', '-f', 'lavfi', '-i', 'sine',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-pix_fmt', 'yuv420p', '-g', '15',
      '-c:a', 'aac', '-f', 'flv', feed.publish.rtmp.replace('localhost', '127.0.0.1'),
    ], logger);
    try {
      const started = (await received('ingress_started', feed.id)).ingressInfo!;
      expect(started).toMatchObject({
        ingressId: feed.id,
        name: '1号无人机（城东）',
        streamKey: feed.streamKey,
        inputType: IngressInput.RTMP_INPUT,
        roomName: COMMAND_CENTRE_MEETING_ID,
        participantIdentity: `feed:${feed.id}`,
        participantName: '1号无人机（城东）',
        state: { status: IngressState_Status.ENDPOINT_PUBLISHING, error: '', endedAt: 0n },
      });
      expect(nsToMs(started.state!.startedAt)).toBeCloseTo(Date.now(), -4);

      const chair = await connect(server.url);
      clients.push(chair);
      const token = await tokenFor(server, { room: COMMAND_CENTRE_MEETING_ID, identity: 'command-chair', role: 'chair', unitId: 'command-chair' });
      await ok(chair, 'join', { meetingId: COMMAND_CENTRE_MEETING_ID, token });
      const { recordingId } = await ok(chair, 'startRecording', {});
      const recording = (await received('egress_started', recordingId)).egressInfo!;
      expect(recording).toMatchObject({ egressId: recordingId, roomName: COMMAND_CENTRE_MEETING_ID, status: EgressStatus.EGRESS_ACTIVE, endedAt: 0n });
      await new Promise((resolve) => setTimeout(resolve, RECORD_SECONDS * 1000));
      await ok(chair, 'stopRecording', {});

      const ended = (await received('egress_ended', recordingId, 20_000)).egressInfo!;
      expect(ended).toMatchObject({ egressId: recordingId, roomName: COMMAND_CENTRE_MEETING_ID, status: EgressStatus.EGRESS_COMPLETE, error: '' });
      expect(ended.startedAt).toBe(recording.startedAt);
      expect(ended.endedAt).toBeGreaterThan(ended.startedAt);
      // The composite, then the drone's audio and video tracks, each with its size and length.
      const { manifest } = await server.recordings.get(recordingId);
      expect(ended.fileResults.map((file) => file.filename)).toEqual([manifest.composite!.file, ...manifest.tracks.map((track) => track.file)]);
      expect(ended.fileResults).toHaveLength(3);
      for (const file of ended.fileResults) {
        expect(file.size).toBeGreaterThan(0n);
        expect(nsToMs(file.duration)).toBeGreaterThan((RECORD_SECONDS - 1.5) * 1000);
        expect(file.endedAt - file.startedAt).toBe(file.duration);
      }

      await drone.stop(1000);
      const stopped = (await received('ingress_ended', feed.id)).ingressInfo!;
      expect(stopped).toMatchObject({ ingressId: feed.id, inputType: IngressInput.RTMP_INPUT, state: { status: IngressState_Status.ENDPOINT_INACTIVE, error: '' } });
      expect(stopped.state!.startedAt).toBe(started.state!.startedAt);
      expect(stopped.state!.endedAt).toBeGreaterThan(stopped.state!.startedAt);
      expect(events.map((event) => event.event).filter((name) => name.startsWith('ingress') || name.startsWith('egress'))).toEqual([
        'ingress_started',
        'egress_started',
        'egress_ended',
        'ingress_ended',
      ]);
      // ingress_started, ingress_ended, egress_started and egress_ended carry their info and no room, as LiveKit's do.
      expect(events.filter((event) => event.ingressInfo || event.egressInfo).every((event) => event.room === undefined)).toBe(true);
    } finally {
      await drone.stop(1000);
      await deleteFeed(feed.id);
    }
  }, 40_000);

  it('a camera that fails: ingress_ended with ENDPOINT_ERROR and the reason', async () => {
    const garbage = createTcpServer((socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nnot rtsp at all\n'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    const url = `rtsp://127.0.0.1:${(garbage.address() as AddressInfo).port}/x`;
    const feed = await createFeed({ name: '损坏的摄像头', kind: 'rtsp', url });
    try {
      const failed = (await received('ingress_ended', feed.id, 20_000)).ingressInfo!;
      expect(failed).toMatchObject({ ingressId: feed.id, streamKey: '', url, inputType: IngressInput.URL_INPUT, state: { status: IngressState_Status.ENDPOINT_ERROR } });
      expect(failed.state!.error).toContain('could not probe');
      expect(events.some((event) => event.event === 'ingress_started' && event.ingressInfo?.ingressId === feed.id)).toBe(false);
    } finally {
      await deleteFeed(feed.id);
      garbage.close();
    }
  }, 25_000);
});
