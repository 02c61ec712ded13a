// WHIP ingest: real Chromium publishes its fake camera and microphone with one HTTP POST of an SDP
// offer, as a WHIP client does; the media become mediasoup producers (H.264 unless the offer has
// only VP8), decodable by ffmpeg, and a publisher that goes away or an offer the SFU cannot take
// leaves nothing open on the router.
import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RtpBridge, Sfu, type mediasoupTypes as ms } from '../src/index.js';
import { WhipPublication } from '../src/whip/WhipPublication.js';
import { WhipOfferError } from '../src/whip/whipOffer.js';
import { testSfuConfig } from './config.js';

const run = promisify(execFile);
const config = testSfuConfig(47000);
const logger = pino({ level: process.env.WHIP_LOG ?? 'silent' });
const DISCONNECT_TIMEOUT_MS = 2000;

let sfu: Sfu;
let router: ms.Router;
let browser: Browser;
let http: Server;
let origin: string;
let workDir: string;
/** Every publication the endpoint created, by resource id. */
const publications = new Map<string, WhipPublication>();

/** The WHIP endpoint: POST /whip answers with 201, Location and ETag; DELETE /whip/<id> ends it. */
async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (request.method === 'GET' && request.url === '/') {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>WHIP publisher</title>');
    return;
  }
  if (request.method === 'POST' && request.url === '/whip') {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      const publication = await WhipPublication.create({
        router,
        offer: Buffer.concat(chunks).toString(),
        listenIps: config.listenIps,
        participantId: `whip-${publications.size + 1}`,
        logger,
        disconnectTimeoutMs: DISCONNECT_TIMEOUT_MS,
      });
      publications.set(publication.transport.id, publication);
      response
        .writeHead(201, { 'content-type': 'application/sdp', location: `/whip/${publication.transport.id}`, etag: publication.etag })
        .end(publication.answer);
    } catch (error) {
      const status = error instanceof WhipOfferError ? error.status : 500;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(String(error));
    }
    return;
  }
  const resource = /^\/whip\/(.+)$/.exec(request.url ?? '');
  if (request.method === 'DELETE' && resource && publications.has(resource[1]!)) {
    publications.get(resource[1]!)!.close();
    response.writeHead(200).end();
    return;
  }
  response.writeHead(404).end();
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'whip-test-'));
  const video = join(workDir, 'clip.y4m');
  const audio = join(workDir, 'tone.wav');
  const ffmpeg = (...args: string[]): void => {
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 30_000 });
  };
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-t', '3', '-pix_fmt', 'yuv420p', video);
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3', '-ac', '1', '-c:a', 'pcm_s16le', audio);
  sfu = await Sfu.create(config, logger);
  router = (await sfu.openMeeting('whip')).router;
  http = createServer((request, response) => void handle(request, response));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  origin = `http://localhost:${(http.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      `--use-file-for-fake-video-capture=${video}`,
      `--use-file-for-fake-audio-capture=${audio}`,
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  http?.close();
  sfu?.close();
  rmSync(workDir, { recursive: true, force: true });
});

afterEach(() => {
  for (const publication of publications.values()) publication.close();
  publications.clear();
});

async function routerTransports(): Promise<number> {
  return (await router.dump()).transportIds.length;
}

/** A page on the endpoint's origin (a secure context, so it has mediaDevices) in its own context. */
async function openPage(): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(origin, { timeout: 10_000 });
  return page;
}

interface OfferOptions {
  /** Limits video to this codec, e.g. 'video/vp8'. */
  videoCodec?: string;
  /** Sends video as simulcast with these rids, lowest resolution first. */
  rids?: string[];
}

/** What the page's RTCPeerConnection offers for sendonly camera and microphone, ICE gathered. */
function createOffer(page: Page, options: OfferOptions = {}): Promise<string> {
  return page.evaluate(async ({ videoCodec: codec, rids }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) {
      const sendEncodings = track.kind === 'video' && rids ? rids.map((rid, i) => ({ rid, scaleResolutionDownBy: 2 ** (rids.length - 1 - i) })) : undefined;
      const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [stream], sendEncodings });
      if (track.kind === 'video' && codec) {
        const codecs = RTCRtpSender.getCapabilities('video')!.codecs;
        transceiver.setCodecPreferences(codecs.filter((c) => [codec, 'video/rtx'].includes(c.mimeType.toLowerCase())));
      }
    }
    await pc.setLocalDescription();
    // No trickle: the offer carries every candidate, as WHIP clients without PATCH send it.
    await new Promise<void>((resolve) => {
      const done = (): void => (pc.iceGatheringState === 'complete' ? resolve() : undefined);
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 3000);
      done();
    });
    (window as unknown as { pc: RTCPeerConnection }).pc = pc;
    return pc.localDescription!.sdp;
  }, options);
}

/** Publishes like a WHIP client: POST the offer, apply the answer, wait for 'connected'. */
async function publish(page: Page, options: OfferOptions = {}): Promise<WhipPublication> {
  await createOffer(page, options);
  const result = await page.evaluate(async () => {
    const pc = (window as unknown as { pc: RTCPeerConnection }).pc;
    const response = await fetch('/whip', { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: pc.localDescription!.sdp });
    const answer = await response.text();
    if (response.status !== 201) return { status: response.status, answer, state: pc.connectionState, location: '' };
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (pc.connectionState === 'connected') resolve();
        if (pc.connectionState === 'failed') reject(new Error('connection failed'));
      };
      pc.addEventListener('connectionstatechange', check);
      setTimeout(() => reject(new Error(`still ${pc.connectionState}`)), 10_000);
      check();
    });
    return { status: response.status, answer, state: pc.connectionState, location: response.headers.get('location') ?? '' };
  });
  expect(result.status, result.answer).toBe(201);
  expect(result.state).toBe('connected');
  return publications.get(result.location.replace('/whip/', ''))!;
}

function producerOf(publication: WhipPublication, kind: ms.MediaKind): ms.Producer {
  const producer = publication.producers.find((candidate) => candidate.kind === kind);
  expect(producer, `${kind} producer`).toBeDefined();
  return producer!;
}

async function received(producer: ms.Producer): Promise<{ packets: number; bytes: number; mimeType: string }> {
  const [stats] = await producer.getStats();
  return { packets: stats?.packetCount ?? 0, bytes: stats?.byteCount ?? 0, mimeType: stats?.mimeType ?? '' };
}

/** Waits until `producer` has received media, then until it has received more. */
async function expectGrowing(producer: ms.Producer, mimeType: string): Promise<void> {
  await expect.poll(async () => (await received(producer)).packets, { timeout: 10_000 }).toBeGreaterThan(0);
  const first = await received(producer);
  expect(first.mimeType).toBe(mimeType);
  await expect.poll(async () => (await received(producer)).bytes, { timeout: 5000 }).toBeGreaterThan(first.bytes);
}

describe('WHIP publishing from Chromium', () => {
  it('receives camera as H.264 and microphone as Opus, and ffmpeg decodes the video', async () => {
    const page = await openPage();
    const publication = await publish(page);
    expect(publication.etag).toMatch(/^".+"$/);
    expect(publication.producers.map((producer) => producer.appData)).toEqual([
      { participantId: 'whip-1', source: 'microphone' },
      { participantId: 'whip-1', source: 'camera' },
    ]);
    const video = producerOf(publication, 'video');
    const audio = producerOf(publication, 'audio');
    expect(video.rtpParameters.codecs.map((codec) => codec.mimeType)).toEqual(['video/H264', 'video/rtx']);
    await expectGrowing(video, 'video/H264');
    await expectGrowing(audio, 'audio/opus');

    const file = join(workDir, 'whip.mkv');
    const bridge = await RtpBridge.start({
      jobId: 'whip-decode',
      router,
      producers: [video],
      listenIp: config.listenIps[0]!,
      outputArgs: () => ['-c', 'copy', '-f', 'matroska', '-y', file],
      logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await bridge.stop();
    const { stdout } = await run('ffprobe', [
      '-v', 'error', '-count_frames', '-select_streams', 'v:0',
      '-show_entries', 'stream=codec_name,width,height,nb_read_frames', '-of', 'json', file,
    ]);
    const [stream] = (JSON.parse(stdout) as { streams: { codec_name: string; width: number; height: number; nb_read_frames: string }[] }).streams;
    expect(stream).toMatchObject({ codec_name: 'h264', width: 320, height: 240 });
    expect(Number(stream!.nb_read_frames)).toBeGreaterThan(10);
    await page.context().close();
  });

  it('receives VP8 when the offer has only VP8', async () => {
    const page = await openPage();
    const publication = await publish(page, { videoCodec: 'video/vp8' });
    const video = producerOf(publication, 'video');
    expect(video.rtpParameters.codecs.map((codec) => codec.mimeType)).toEqual(['video/VP8', 'video/rtx']);
    expect(video.rtpParameters.encodings).toMatchObject([{ ssrc: expect.any(Number), rtx: { ssrc: expect.any(Number) } }]);
    await expectGrowing(video, 'video/VP8');
    await page.context().close();
  });

  it('receives simple simulcast as one simulcast producer', async () => {
    const page = await openPage();
    const publication = await publish(page, { videoCodec: 'video/vp8', rids: ['q', 'f'] });
    expect(publication.answer).toMatch(/^a=rid:q recv\r\na=rid:f recv\r\na=simulcast:recv q;f\r$/m);
    const video = producerOf(publication, 'video');
    expect(video.type).toBe('simulcast');
    expect(video.rtpParameters.encodings).toMatchObject([{ rid: 'q' }, { rid: 'f' }]);
    await expectGrowing(video, 'video/VP8');
    await page.context().close();
  });

  it('frees the transport and producers when the publisher goes away', async () => {
    const page = await openPage();
    const publication = await publish(page);
    expect(await routerTransports()).toBe(1);
    const closed = once(publication, 'closed') as Promise<[string]>;
    const closedAt = Date.now();
    await page.context().close();
    const [reason] = await closed;
    expect(['dtls-closed', 'disconnected']).toContain(reason);
    expect(Date.now() - closedAt).toBeLessThan(DISCONNECT_TIMEOUT_MS + 2000);
    expect(publication.producers.every((producer) => producer.closed)).toBe(true);
    expect(await routerTransports()).toBe(0);
  });
});

describe('offers the SFU cannot take', () => {
  let offer: string;
  let vp9Offer: string;

  beforeAll(async () => {
    const page = await openPage();
    offer = await createOffer(page);
    await page.reload();
    vp9Offer = await createOffer(page, { videoCodec: 'video/vp9' });
    await page.context().close();
  });

  async function refused(sdp: string): Promise<WhipOfferError> {
    const error = await WhipPublication.create({ router, offer: sdp, listenIps: config.listenIps, participantId: 'bad', logger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WhipOfferError);
    expect(await routerTransports()).toBe(0);
    return error as WhipOfferError;
  }

  it('refuses what is not SDP', async () => {
    expect(await refused('hello')).toMatchObject({ status: 400, message: expect.stringMatching(/not SDP: it must start with "v=0"/) });
    expect(await refused('x'.repeat(70_000))).toMatchObject({ status: 413 });
    expect(await refused('v=0\r\ns=-\r\n')).toMatchObject({ status: 422, message: expect.stringMatching(/no media/) });
  });

  it('refuses video in a codec the router does not have, saying what to send', async () => {
    const videoOnly = vp9Offer.slice(0, vp9Offer.indexOf('m=audio')) + vp9Offer.slice(vp9Offer.indexOf('m=video'));
    const error = await refused(videoOnly.replace(/^a=group:BUNDLE .*$/m, 'a=group:BUNDLE 1'));
    expect(error.status).toBe(422);
    expect(error.message).toMatch(/m-line 0 \(video\): no codec the SFU receives among VP9.*: send H\.264 \(packetization-mode=1\) or VP8/);
  });

  it('refuses an offer without a DTLS fingerprint or ICE credentials', async () => {
    expect(await refused(offer.replace(/^a=fingerprint:.*\r\n/gm, ''))).toMatchObject({
      status: 422,
      message: 'the offer has no DTLS fingerprint: add a=fingerprint:sha-256 <hash>',
    });
    expect(await refused(offer.replace(/^a=ice-pwd:.*\r\n/gm, ''))).toMatchObject({ status: 422, message: expect.stringMatching(/ICE credentials/) });
  });

  it('answers the VP9-only video with port 0 and takes the audio', async () => {
    const publication = await WhipPublication.create({ router, offer: vp9Offer, listenIps: config.listenIps, participantId: 'p', logger });
    publications.set(publication.transport.id, publication);
    expect(publication.producers.map((producer) => producer.kind)).toEqual(['audio']);
    expect(publication.answer).toMatch(/^a=group:BUNDLE 0\r$/m);
    expect(publication.answer).toMatch(/^m=video 0 UDP\/TLS\/RTP\/SAVPF \d+\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=inactive\r$/m);
    expect(publication.answer).toMatch(/^a=setup:passive\r$/m);
    expect(publication.answer).toMatch(/^a=ice-lite\r$/m);
  });
});
