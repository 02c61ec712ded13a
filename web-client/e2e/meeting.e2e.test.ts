// End to end: a real server (signaling + mediasoup), the built web client, and real Debian
// Chromium with fake camera/microphone files. Three participants see and hear each other, one
// leaves, rejoins and closes its page, and bad tokens are refused with a clear message.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type MintOptions } from '../../signaling/src/auth/tokens.js';
import { startServer, type RunningServer } from '../../signaling/src/server.js';
// For the type of window.__cityconf in page.evaluate callbacks.
import type {} from '../src/lib/automation.js';

const webClientDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const FFMPEG = '/usr/bin/ffmpeg';
const ROOM = 'e2e-meeting';
const JOIN_TIMEOUT_MS = 20_000;
const MEDIA_TIMEOUT_MS = 20_000;

interface Attendee {
  identity: string;
  name: string;
  context: BrowserContext;
  page: Page;
  /** Server participant id, known once joined. */
  id: string;
}

let server: RunningServer;
let browser: Browser;
let workDir: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

function buildWebClientIfMissing(): void {
  if (existsSync(join(webClientDir, 'dist/index.html'))) return;
  execFileSync('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn'], { cwd: webClientDir, stdio: 'inherit' });
}

/** A small looping test pattern and a tone, so that media is deterministic and cheap on 2 cores. */
function makeFakeMedia(dir: string): { video: string; audio: string } {
  const video = join(dir, 'clip.y4m');
  const audio = join(dir, 'tone.wav');
  const ffmpeg = (...args: string[]): void => {
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 30_000 });
  };
  ffmpeg('-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=15', '-t', '3', '-pix_fmt', 'yuv420p', video);
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3', '-ac', '1', '-c:a', 'pcm_s16le', audio);
  return { video, audio };
}

function token(options: Partial<MintOptions> & { identity: string }, auth = server.config.auth): Promise<string> {
  return mintToken(auth, { room: ROOM, name: options.identity, ...options });
}

function meetingUrl(jwt: string): string {
  return `${server.url}/m/${ROOM}?${new URLSearchParams({ token: jwt, autojoin: '1' })}`;
}

async function openPage(label: string, jwt: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${label}: ${error.message}`));
  await page.goto(meetingUrl(jwt), { timeout: 10_000 });
  return { context, page };
}

async function joinMeeting(identity: string, name: string): Promise<Attendee> {
  const { context, page } = await openPage(identity, await token({ identity, name }));
  await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
  const id = await page.evaluate(() => window.__cityconf!.state().selfId);
  expect(id).toBeTruthy();
  return { identity, name, context, page, id: id! };
}

function waitForParticipants(page: Page, count: number): Promise<unknown> {
  return page.waitForFunction((n) => window.__cityconf?.state().participants.length === n, count, {
    timeout: JOIN_TIMEOUT_MS,
  });
}

function inboundStats(page: Page) {
  return page.evaluate(() => window.__cityconf!.inboundStats());
}

type Stats = Awaited<ReturnType<typeof inboundStats>>;

function statsOf(stats: Stats, participantId: string, kind: 'audio' | 'video') {
  return stats.find((entry) => entry.participantId === participantId && entry.kind === kind);
}

/** Waits until `page` decodes video and receives audio from every one of `others`. */
async function waitForMediaFrom(page: Page, others: Attendee[]): Promise<Stats> {
  const deadline = Date.now() + MEDIA_TIMEOUT_MS;
  for (;;) {
    const stats = await inboundStats(page);
    const flowing = others.every(
      (other) =>
        (statsOf(stats, other.id, 'video')?.framesDecoded ?? 0) > 0 &&
        (statsOf(stats, other.id, 'audio')?.packetsReceived ?? 0) > 0,
    );
    if (flowing) return stats;
    if (Date.now() > deadline) throw new Error(`no media from all of ${others.map((o) => o.identity)}: ${JSON.stringify(stats)}`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

function remoteVideoPlayback(page: Page) {
  return page.$$eval('video[data-testid="remote-video"]', (videos) =>
    (videos as HTMLVideoElement[]).map((video) => ({
      participantId: video.dataset.participantId ?? '',
      readyState: video.readyState,
      currentTime: video.currentTime,
      width: video.videoWidth,
    })),
  );
}

function tileLocator(page: Page, participantId: string) {
  return page.locator(`[data-testid="participant-tile"][data-participant-id="${participantId}"]`);
}

async function expectServerCounts(participants: number, transports: number): Promise<void> {
  await expect
    .poll(() => {
      const { participants: p, transports: t } = server.sfu.stats();
      return { participants: p, transports: t };
    }, { timeout: 10_000, interval: 200 })
    .toEqual({ participants, transports });
}

describe('web client in Chromium against the real server', () => {
  const attendees: Attendee[] = [];

  beforeAll(async () => {
    buildWebClientIfMissing();
    workDir = mkdtempSync(join(tmpdir(), 'cityconf-e2e-'));
    const media = makeFakeMedia(workDir);
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      dataDir: join(workDir, 'data'),
      auth: { apiKey: 'e2e-key', apiSecret: 'e2e-secret-0123456789abcdef0123456789' },
      sfu: { numWorkers: 1 },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        `--use-file-for-fake-video-capture=${media.video}`,
        `--use-file-for-fake-audio-capture=${media.audio}`,
        '--autoplay-policy=no-user-gesture-required',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    });
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  }, 30_000);

  it('three participants receive each other’s video and audio', async () => {
    attendees.push(await joinMeeting('city-emergency', '市应急管理局'));
    attendees.push(await joinMeeting('county-a', '甲县'));
    attendees.push(await joinMeeting('town-b', '乙镇'));
    await Promise.all(attendees.map(({ page }) => waitForParticipants(page, 2)));

    for (const attendee of attendees) {
      const others = attendees.filter((other) => other !== attendee);
      const tiles = await attendee.page.$$eval('[data-testid="participant-tile"]', (elements) =>
        elements.map((element) => (element as HTMLElement).dataset.identity),
      );
      expect(tiles.sort()).toEqual(others.map((other) => other.identity).sort());

      const first = await waitForMediaFrom(attendee.page, others);
      const videoBefore = await remoteVideoPlayback(attendee.page);
      await new Promise((done) => setTimeout(done, 1_500));
      const second = await inboundStats(attendee.page);
      const videoAfter = await remoteVideoPlayback(attendee.page);

      for (const other of others) {
        const label = `${attendee.identity} ← ${other.identity}`;
        expect(statsOf(second, other.id, 'video')!.framesDecoded, label).toBeGreaterThan(statsOf(first, other.id, 'video')!.framesDecoded);
        expect(statsOf(second, other.id, 'audio')!.packetsReceived, label).toBeGreaterThan(statsOf(first, other.id, 'audio')!.packetsReceived);

        const before = videoBefore.find((video) => video.participantId === other.id);
        const after = videoAfter.find((video) => video.participantId === other.id);
        expect(after?.readyState, label).toBeGreaterThanOrEqual(2);
        expect(after!.width, label).toBeGreaterThan(0);
        expect(after!.currentTime, label).toBeGreaterThan(before!.currentTime);
      }
      expect(await attendee.page.getByTestId('local-video').count()).toBe(1);
      expect(await attendee.page.getByTestId('participant-count').getAttribute('data-count')).toBe('3');
    }
  }, 75_000);

  it('a participant who leaves disappears for the others and on the server; rejoin works', async () => {
    await expectServerCounts(3, 6);
    const [first, second, leaver] = attendees as [Attendee, Attendee, Attendee];

    for (const { page } of [first, second]) expect(await tileLocator(page, leaver.id).count()).toBe(1);
    await leaver.page.getByTestId('leave-button').click();
    await leaver.page.getByTestId('left-view').waitFor({ timeout: 5_000 });
    expect(await leaver.page.getByTestId('left-view').textContent()).toContain('已离开会议');
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ state: 'detached', timeout: 10_000 });
    await expectServerCounts(2, 4);

    await leaver.page.getByTestId('rejoin-button').click();
    await leaver.page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    leaver.id = (await leaver.page.evaluate(() => window.__cityconf!.state().selfId))!;
    await waitForParticipants(leaver.page, 2);
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ timeout: 10_000 });
    await waitForMediaFrom(first.page, [leaver]);
    await expectServerCounts(3, 6);

    await leaver.page.close();
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ state: 'detached', timeout: 10_000 });
    await expectServerCounts(2, 4);
    expect(await first.page.evaluate(() => window.__cityconf!.state().participants.map((p) => p.identity))).toEqual([second.identity]);
  }, 60_000);

  it('rejoins by itself when the media server restarts', async () => {
    const [first, second] = attendees as [Attendee, Attendee];
    process.kill(server.sfu.pool.workers[0]!.pid, 'SIGKILL');

    for (const attendee of [first, second]) {
      const notice = attendee.page.locator('[data-testid="connection-notice"][data-notice="mediaServerRestarted"]');
      await notice.waitFor({ state: 'visible', timeout: 5_000 });
    }
    for (const attendee of [first, second]) {
      await attendee.page.waitForFunction(
        (oldId) => {
          const state = window.__cityconf!.state();
          return state.phase === 'joined' && state.selfId !== oldId && state.participants.length === 1;
        },
        attendee.id,
        { timeout: JOIN_TIMEOUT_MS },
      );
      attendee.id = (await attendee.page.evaluate(() => window.__cityconf!.state().selfId))!;
    }
    await waitForMediaFrom(first.page, [second]);
    await waitForMediaFrom(second.page, [first]);
    await expect(first.page.getByTestId('connection-notice').count()).resolves.toBe(0);
    await expectServerCounts(2, 4);
  }, 45_000);

  it('refuses an expired token and a token signed with another secret', async () => {
    const cases = [
      { code: 'TOKEN_EXPIRED', chinese: '令牌已过期', jwt: await token({ identity: 'late-unit', ttlSeconds: -60 }) },
      {
        code: 'UNAUTHORIZED',
        chinese: '令牌无效',
        jwt: await token({ identity: 'forger' }, { apiKey: server.config.auth.apiKey, apiSecret: 'another-secret-entirely-0123456789' }),
      },
    ];
    for (const { code, chinese, jwt } of cases) {
      const { page } = await openPage(code, jwt);
      const error = page.getByTestId('join-error');
      await error.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await error.getAttribute('data-error-code')).toBe(code);
      expect(await error.textContent()).toContain(chinese);
      expect(await page.evaluate(() => window.__cityconf!.state())).toMatchObject({ phase: 'error', errorCode: code });
      await page.close();
    }
    expect(server.sfu.stats().participants).toBe(2);
  }, 30_000);

  it('raised no uncaught errors in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
