// Time to first remote frame after clicking "加入会议 / Join", in headless Chromium on loopback.
// One publisher (960×540 15 fps fake camera, VP8 simulcast) stays in the meeting; a receive-only
// viewer (camera and microphone unchecked, so no capture start is measured) opens the link, clicks
// Join, and the page records performance.now() at the click and at the first frame presented in
// the publisher's <video> (requestVideoFrameCallback). Repeated JOINS times with a fresh page.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { afterAll, beforeAll, it } from 'vitest';
import { BrowserMeeting, JOIN_TIMEOUT_MS } from '../web-client/e2e/harness.js';

const JOINS = Number(process.env.BENCH_JOINS ?? 20);
const RESULT = new URL('./results/first-frame.json', import.meta.url);
let meeting: BrowserMeeting;

beforeAll(async () => {
  meeting = await BrowserMeeting.start('bench-first-frame', { width: 960, height: 540, fps: 15 });
});

afterAll(async () => {
  await meeting?.close();
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

it(`first remote frame after Join, ${JOINS} joins`, async () => {
  const publisher = await meeting.join('bench-publisher', '发布端');
  const samples: number[] = [];
  for (let i = 0; i < JOINS; i++) {
    const jwt = await meeting.token({ identity: `bench-viewer-${i}`, name: `观看端${i}` });
    const context = await meeting.browser.newContext({ viewport: { width: 960, height: 600 } });
    const page = await context.newPage();
    await page.goto(meeting.url(jwt, { autojoin: '0' }));
    await page.getByTestId('join-button').waitFor();
    await page.getByTestId('join-camera').uncheck();
    await page.getByTestId('join-microphone').uncheck();
    const elapsed = await page.evaluate(
      ({ publisherId, timeoutMs }) =>
        new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no remote frame')), timeoutMs);
          const watch = (video: HTMLVideoElement): void => {
            video.requestVideoFrameCallback(() => {
              clearTimeout(timer);
              resolve(performance.now() - clickedAt);
            });
          };
          const selector = `video[data-testid="remote-video"][data-participant-id="${publisherId}"]`;
          new MutationObserver((_, observer) => {
            const video = document.querySelector<HTMLVideoElement>(selector);
            if (!video) return;
            observer.disconnect();
            watch(video);
          }).observe(document.body, { childList: true, subtree: true });
          const clickedAt = performance.now();
          document.querySelector<HTMLButtonElement>('[data-testid="join-button"]')!.click();
        }),
      { publisherId: publisher.id, timeoutMs: JOIN_TIMEOUT_MS },
    );
    samples.push(elapsed);
    await context.close();
  }

  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms);
  const result = {
    benchmark: 'first-remote-frame',
    date: new Date().toISOString().slice(0, 10),
    machine: `${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}`,
    joins: JOINS,
    camera: '960x540@15 VP8 simulcast, viewer receive-only',
    ms: { p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), min: round(sorted[0]!), max: round(sorted.at(-1)!) },
    samplesMs: samples.map(round),
  };
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(RESULT, `${JSON.stringify(result, null, 2)}\n`);
}, 600_000);
