// Browser end-to-end harness: a real server (signaling + mediasoup) serving the built web client,
// and one real Debian Chromium whose fake camera and microphone play files made with ffmpeg.
// Each participant gets its own browser context.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { AuthConfig } from '../../signaling/src/config.js';
import { mintToken, type MintOptions } from '../../signaling/src/auth/tokens.js';
import { startServer, type RunningServer } from '../../signaling/src/server.js';
import type { mediasoupTypes } from '../../sfu/src/index.js';
// For the type of window.__cityconf in page.evaluate callbacks.
import type {} from '../src/lib/automation.js';

const webClientDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';
const FFMPEG = '/usr/bin/ffmpeg';
export const JOIN_TIMEOUT_MS = 20_000;
const MEDIA_TIMEOUT_MS = 20_000;

export interface Attendee {
  identity: string;
  name: string;
  context: BrowserContext;
  page: Page;
  /** Server participant id, known once joined. */
  id: string;
}

export interface FakeCamera {
  width: number;
  height: number;
  fps: number;
}

function buildWebClientIfMissing(): void {
  if (existsSync(join(webClientDir, 'dist/index.html'))) return;
  execFileSync('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn'], { cwd: webClientDir, stdio: 'inherit' });
}

/** A short looping test pattern and a tone, so that media is deterministic and cheap. */
function makeFakeMedia(dir: string, camera: FakeCamera): { video: string; audio: string } {
  const video = join(dir, 'clip.y4m');
  const audio = join(dir, 'tone.wav');
  const ffmpeg = (...args: string[]): void => {
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 30_000 });
  };
  const pattern = `testsrc=size=${camera.width}x${camera.height}:rate=${camera.fps}`;
  ffmpeg('-f', 'lavfi', '-i', pattern, '-t', '3', '-pix_fmt', 'yuv420p', video);
  ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '3', '-ac', '1', '-c:a', 'pcm_s16le', audio);
  return { video, audio };
}

export interface BrowserOptions {
  /**
   * Fake cameras Chromium lists (its `device-count`); 1 unless asked. Chromium has one camera
   * per video file, so several cameras show its own generated pattern instead of the file.
   */
  cameras?: number;
  /** Accept camera/microphone prompts (default). Without it Chromium refuses them: NotAllowedError. */
  acceptMediaPrompts?: boolean;
  /** mediasoup workers of the server (default 1); with more, one meeting spans several. */
  numWorkers?: number;
}

function launchChromium(media: { video: string; audio: string }, { cameras = 1, acceptMediaPrompts = true }: BrowserOptions): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      cameras > 1 ? `--use-fake-device-for-media-stream=device-count=${cameras}` : '--use-fake-device-for-media-stream',
      ...(acceptMediaPrompts ? ['--use-fake-ui-for-media-stream'] : []),
      ...(cameras > 1 ? [] : [`--use-file-for-fake-video-capture=${media.video}`]),
      `--use-file-for-fake-audio-capture=${media.audio}`,
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export interface PageOptions {
  /** Open an autojoin link (default) or the lobby. */
  autojoin?: boolean;
  /** Another browser from launchBrowser(). */
  browser?: Browser;
}

export class BrowserMeeting {
  readonly pageErrors: string[] = [];
  private readonly contexts: BrowserContext[] = [];
  private readonly extraBrowsers: Browser[] = [];
  /** Each page's current socket.io socket id, read from the server's CONNECT frame. */
  private readonly socketIds = new WeakMap<Page, string>();

  private constructor(
    readonly room: string,
    private runningServer: RunningServer,
    readonly browser: Browser,
    private readonly workDir: string,
    private readonly media: { video: string; audio: string },
  ) {}

  static async start(
    room: string,
    camera: FakeCamera = { width: 320, height: 240, fps: 15 },
    browserOptions: BrowserOptions = {},
  ): Promise<BrowserMeeting> {
    buildWebClientIfMissing();
    const workDir = mkdtempSync(join(tmpdir(), 'cityconf-e2e-'));
    const media = makeFakeMedia(workDir, camera);
    const server = await startServer({
      host: '127.0.0.1',
      port: 0,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      dataDir: join(workDir, 'data'),
      auth: { apiKey: 'e2e-key', apiSecret: 'e2e-secret-0123456789abcdef0123456789' },
      sfu: { numWorkers: browserOptions.numWorkers ?? 1 },
    });
    const browser = await launchChromium(media, browserOptions);
    return new BrowserMeeting(room, server, browser, workDir, media);
  }

  /** The server now; restartServer() replaces it. */
  get server(): RunningServer {
    return this.runningServer;
  }

  /**
   * Stops the whole server (signaling and media), runs `whileDown`, then starts a new one on the
   * same port with the same configuration, as after a crash or a deployment.
   */
  async restartServer(whileDown: () => Promise<void>): Promise<void> {
    const { config } = this.runningServer;
    await this.runningServer.close();
    try {
      await whileDown();
    } finally {
      this.runningServer = await startServer(config);
    }
  }

  /** The server drops `page`'s socket.io connection, as when it ends a session or a proxy cuts it. */
  disconnectSocket(page: Page): void {
    const socketId = this.socketIds.get(page);
    if (!socketId || !this.server.io.sockets.sockets.has(socketId)) throw new Error(`no server socket for this page (${socketId})`);
    this.server.io.in(socketId).disconnectSockets(true);
  }

  private trackSocket(page: Page): void {
    page.on('websocket', (webSocket) => {
      webSocket.on('framereceived', ({ payload }) => {
        const connected = /^40(\{.*\})$/.exec(payload.toString());
        if (connected) this.socketIds.set(page, (JSON.parse(connected[1]!) as { sid: string }).sid);
      });
    });
  }

  /** A second Chromium with other options on the same server and fake media; closed by close(). */
  async launchBrowser(options: BrowserOptions): Promise<Browser> {
    const browser = await launchChromium(this.media, options);
    this.extraBrowsers.push(browser);
    return browser;
  }

  token(options: Partial<MintOptions> & { identity: string }, auth: AuthConfig = this.server.config.auth): Promise<string> {
    return mintToken(auth, { room: this.room, name: options.identity, ...options });
  }

  /** An autojoin link; `options` become further query parameters (e.g. videoCodec=h264). */
  url(jwt: string, options: Record<string, string> = {}, autojoin = true): string {
    const query = new URLSearchParams({ token: jwt, ...(autojoin ? { autojoin: '1' } : {}), ...options });
    return `${this.server.url}/m/${this.room}?${query}`;
  }

  async openPage(
    label: string,
    jwt: string,
    options: Record<string, string> = {},
    { autojoin = true, browser = this.browser }: PageOptions = {},
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => this.pageErrors.push(`${label}: ${error.message}`));
    this.trackSocket(page);
    await page.goto(this.url(jwt, options, autojoin), { timeout: 10_000 });
    return { context, page };
  }

  /**
   * Opens an autojoin link for `identity` (with token `attributes`, e.g. a unit, and `grant`: the
   * meeting role and unit) and waits until the page has joined.
   */
  async join(
    identity: string,
    name: string,
    options: Record<string, string> = {},
    attributes?: Record<string, string>,
    grant: Pick<MintOptions, 'role' | 'unitId'> = {},
  ): Promise<Attendee> {
    const { context, page } = await this.openPage(identity, await this.token({ identity, name, attributes, ...grant }), options);
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    const id = await page.evaluate(() => window.__cityconf!.state().selfId);
    expect(id).toBeTruthy();
    return { identity, name, context, page, id: id! };
  }

  /** Waits until the server counts these participants and transports (nothing leaked). */
  async expectServerCounts(participants: number, transports: number): Promise<void> {
    await expect
      .poll(
        () => {
          const { participants: p, transports: t } = this.server.sfu.stats();
          return { participants: p, transports: t };
        },
        { timeout: 10_000, interval: 200 },
      )
      .toEqual({ participants, transports });
  }

  /** A page at `path` on the server (e.g. `/wall/<room>?…`) in a new context of the shared browser. */
  async openPath(label: string, path: string, viewport = { width: 960, height: 600 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await this.browser.newContext({ viewport });
    this.contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (error) => this.pageErrors.push(`${label}: ${error.message}`));
    this.trackSocket(page);
    await page.goto(`${this.server.url}${path}`, { timeout: 10_000 });
    return { context, page };
  }

  /** The server's mediasoup WebRTC transports of a participant (to break or restart them from outside). */
  /** The participant's WebRTC transports on the server (browsers have no plain ones). */
  serverTransports(participantId: string): mediasoupTypes.WebRtcTransport[] {
    const participant = this.server.sfu.meeting(this.room)?.participants.get(participantId);
    if (!participant) throw new Error(`participant ${participantId} is not on the server`);
    return [...participant.transports.values()].filter((transport): transport is mediasoupTypes.WebRtcTransport => 'iceParameters' in transport);
  }

  async close(): Promise<void> {
    for (const context of this.contexts) await context.close().catch(() => undefined);
    for (const browser of this.extraBrowsers) await browser.close().catch(() => undefined);
    await this.browser.close();
    await this.server.close();
    rmSync(this.workDir, { recursive: true, force: true });
  }
}

export function waitForParticipants(page: Page, count: number): Promise<unknown> {
  return page.waitForFunction((n) => window.__cityconf?.state().participants.length === n, count, {
    timeout: JOIN_TIMEOUT_MS,
  });
}

export function inboundStats(page: Page) {
  return page.evaluate(() => window.__cityconf!.inboundStats());
}

export type Stats = Awaited<ReturnType<typeof inboundStats>>;

export function statsOf(stats: Stats, participantId: string, kind: 'audio' | 'video') {
  return stats.find((entry) => entry.participantId === participantId && entry.kind === kind);
}

/** Waits until `page` decodes video and receives audio from every one of `others`. */
export async function waitForMediaFrom(page: Page, others: Attendee[]): Promise<Stats> {
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

export function remoteVideoPlayback(page: Page) {
  return page.$$eval('video[data-testid="remote-video"]', (videos) =>
    (videos as HTMLVideoElement[]).map((video) => ({
      participantId: video.dataset.participantId ?? '',
      readyState: video.readyState,
      currentTime: video.currentTime,
      width: video.videoWidth,
      height: video.videoHeight,
    })),
  );
}

export function tileLocator(page: Page, participantId: string) {
  return page.locator(`[data-testid="participant-tile"][data-participant-id="${participantId}"]`);
}
