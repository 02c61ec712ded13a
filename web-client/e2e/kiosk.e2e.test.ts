// Kiosk links, the connection-quality indicator, ICE restart and its fallback, and leaving with
// confirmation, in real Chromium against the real server.
import { mkdirSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, JOIN_TIMEOUT_MS, inboundStats, remoteVideoPlayback, statsOf, waitForMediaFrom, waitForParticipants, type Attendee } from './harness.js';

const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
let meeting: BrowserMeeting;

function selfId(page: Page): Promise<string | null> {
  return page.evaluate(() => window.__cityconf!.state().selfId);
}

function videoFramesFrom(page: Page, participantId: string): Promise<number> {
  return inboundStats(page).then((stats) => statsOf(stats, participantId, 'video')?.framesDecoded ?? 0);
}

describe('kiosk, connection quality, ICE restart, leaving', () => {
  let chair: Attendee;
  let county: Attendee;
  const countyLog: string[] = [];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-kiosk');
    chair = await meeting.join('city-office', '市政府办公室');
    county = await meeting.join('county-a', '甲县');
    county.page.on('console', (message) => countyLog.push(message.text()));
    await waitForParticipants(chair.page, 1);
    await waitForMediaFrom(county.page, [chair]);
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('shows the connection quality with its numbers', async () => {
    const indicator = county.page.getByTestId('connection-quality');
    await expect.poll(() => indicator.getAttribute('data-level'), { timeout: 10_000 }).toMatch(/^(good|fair|poor)$/);
    // Loopback: a short round trip and real traffic both ways.
    expect(Number(await indicator.getAttribute('data-rtt'))).toBeLessThan(150);
    expect(Number(await indicator.getAttribute('data-receive-kbps'))).toBeGreaterThan(0);
    expect(Number(await indicator.getAttribute('data-send-kbps'))).toBeGreaterThan(0);
    expect(await indicator.textContent()).toMatch(/网络(良好|一般|较差)/);
    expect(await indicator.getAttribute('title')).toMatch(/往返时延 \d+ 毫秒 · 丢包率 [\d.]+% · 接收 \d+ kbps · 发送 \d+ kbps/);
  }, 20_000);

  it('restarts ICE in place when the media path breaks while signaling stays up', async () => {
    const idBefore = county.id;
    // Rotating the server's ICE credentials twice invalidates the ones the browser uses (mediasoup
    // accepts only the current and the previous ones): its connectivity checks get 401 and the
    // path is lost, as after a network change. Only the server's restartIce brings it back.
    for (const transport of meeting.serverTransports(county.id)) {
      await transport.restartIce();
      await transport.restartIce();
    }
    await expect.poll(() => countyLog.some((line) => line.includes('ice-restart-ended')), { timeout: 30_000 }).toBe(true);
    expect(countyLog.some((line) => line.includes('ice-restart') && !line.includes('ended'))).toBe(true);
    expect(countyLog.filter((line) => line.includes('ice-restart-ended')).every((line) => line.includes('recovered'))).toBe(true);
    // Same session, no rejoin; the notice is gone and video flows again.
    expect(await selfId(county.page)).toBe(idBefore);
    await county.page.getByTestId('connection-notice').waitFor({ state: 'detached', timeout: 10_000 });
    const frames = await videoFramesFrom(county.page, chair.id);
    await expect.poll(() => videoFramesFrom(county.page, chair.id), { timeout: 10_000 }).toBeGreaterThan(frames + 10);
  }, 60_000);

  it('falls back to joining again, in the same layout, when the ICE restart cannot recover', async () => {
    await county.page.getByTestId('layout-speaker').click();
    const idBefore = county.id;
    // The server's transports are gone: the path is lost and the server cannot restart ICE on them.
    for (const transport of meeting.serverTransports(county.id)) transport.close();
    await county.page.waitForFunction((id) => {
      const state = window.__cityconf?.state();
      return state?.phase === 'joined' && state.selfId !== id;
    }, idBefore, { timeout: JOIN_TIMEOUT_MS + 15_000 });
    county.id = (await selfId(county.page))!;
    // It tried an ICE restart first; the server refused it (no such transport), so it joined again.
    expect(countyLog.some((line) => line.includes('ice-restart-failed'))).toBe(true);
    await waitForMediaFrom(county.page, [chair]);
    await expect
      .poll(() => county.page.evaluate(() => window.__cityconf!.view()), { timeout: 10_000 })
      .toMatchObject({ layout: 'speaker', mainTile: `${chair.id}:camera`, videoVisible: [chair.id] });
    await meeting.expectServerCounts(2, 4);
  }, 60_000);

  it('a kiosk link joins by itself with only mute, and joins again after a reload without the token', async () => {
    const jwt = await meeting.token({ identity: 'room-3f', name: '三楼会议室' });
    const { page } = await meeting.openPage('kiosk', jwt, { kiosk: '1' }, { autojoin: false });
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    await expect.poll(() => page.evaluate(() => window.__cityconf!.state().local), { timeout: 10_000 }).toMatchObject({ cameraOn: true, microphoneOn: true });
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);

    await page.getByTestId('kiosk-controls').waitFor();
    for (const hidden of ['leave-button', 'toggle-camera', 'toggle-chat', 'layout-gallery', 'grid-size']) {
      expect(await page.getByTestId(hidden).count(), hidden).toBe(0);
    }
    expect(await page.locator('header.topbar').count()).toBe(0);
    await page.getByTestId('toggle-microphone').click();
    await expect.poll(() => page.evaluate(() => window.__cityconf!.state().local.microphoneOn)).toBe(false);
    await page.getByTestId('toggle-microphone').click();
    await expect.poll(() => page.evaluate(() => window.__cityconf!.state().local.microphoneOn)).toBe(true);

    // Without a user gesture the browser refuses full screen: the 全屏 button offers it.
    const fullscreenButton = page.getByTestId('kiosk-fullscreen');
    if ((await fullscreenButton.count()) > 0) {
      expect(await fullscreenButton.textContent()).toContain('全屏');
      await fullscreenButton.click();
      await expect.poll(() => page.evaluate(() => document.fullscreenElement !== null)).toBe(true);
      await fullscreenButton.waitFor({ state: 'detached' });
    }
    await waitForMediaFrom(page, [chair, county]);
    await expect
      .poll(() => remoteVideoPlayback(page).then((videos) => videos.length > 0 && videos.every((video) => video.readyState >= 2 && video.width > 0)), { timeout: 10_000 })
      .toBe(true);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}kiosk.png` });

    await page.goto(`${meeting.server.url}/m/${meeting.room}?kiosk=1`);
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    await waitForParticipants(page, 2);
    await page.close();
    await waitForParticipants(chair.page, 1);
  }, 60_000);

  it('asks before leaving: Esc or 留在会议中 stays, 离开会议 leaves and says what next', async () => {
    const page = chair.page;
    await page.getByTestId('leave-button').click();
    const dialog = page.getByTestId('leave-confirm');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('确认离开会议？');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('leave-cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await page.evaluate(() => window.__cityconf!.state().phase)).toBe('joined');

    await page.getByTestId('leave-button').click();
    await page.getByTestId('leave-cancel').click();
    await dialog.waitFor({ state: 'detached' });

    await page.getByTestId('leave-button').click();
    await page.getByTestId('leave-confirm-button').click();
    await page.getByTestId('left-view').waitFor({ timeout: 5_000 });
    expect(await page.getByTestId('left-view').getAttribute('data-reason')).toBe('left');
    expect(await page.getByTestId('left-next-step').textContent()).toContain('重新加入');
    await waitForParticipants(county.page, 0);
  }, 30_000);

  it('says so when the same identity joins elsewhere, and offers to rejoin here', async () => {
    const elsewhere = await meeting.join(county.identity, county.name);
    await county.page.getByTestId('left-view').waitFor({ timeout: 10_000 });
    expect(await county.page.getByTestId('left-view').getAttribute('data-reason')).toBe('sessionReplaced');
    expect(await county.page.getByTestId('left-view').textContent()).toContain('您已在其他设备或页面加入此会议');
    expect(await county.page.getByTestId('rejoin-button').textContent()).toContain('在此重新加入');
    await elsewhere.page.close();
    expect(meeting.pageErrors).toEqual([]);
  }, 30_000);
});
