// The command-centre wall `/wall/<meetingId>`: receive-only (no camera or microphone, no send
// transport), the chosen participants in the chosen grid, with their names, in real Chromium.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config.js';
import { BrowserMeeting, JOIN_TIMEOUT_MS, inboundStats, remoteVideoPlayback, tileLocator, waitForMediaFrom, type Attendee } from './harness.js';

const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
let meeting: BrowserMeeting;

describe('wall mode', () => {
  let units: Attendee[];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-wall');
    units = [await meeting.join('city-office', '市政府办公室'), await meeting.join('county-a', '甲县'), await meeting.join('town-b', '乙镇')];
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('shows the chosen identities in order, full screen, receiving only what it shows', async () => {
    const [city, county, town] = units as [Attendee, Attendee, Attendee];
    // A hidden grant: the wall watches without appearing in anyone's meeting.
    const jwt = await meeting.token({ identity: 'command-centre', name: '指挥中心大屏', hidden: true });
    const query = new URLSearchParams({ token: jwt, ids: `${county.identity},${city.identity}`, grid: '2' });
    const { page } = await meeting.openPath('wall', `/wall/${meeting.room}?${query}`, { width: 1280, height: 720 });
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    await waitForMediaFrom(page, [county, city]);

    const tiles = page.getByTestId('participant-tile');
    await expect.poll(() => tiles.evaluateAll((all) => all.map((tile) => (tile as HTMLElement).dataset.participantId))).toEqual([county.id, city.id]);
    expect(await tiles.allTextContents()).toEqual([expect.stringContaining('甲县'), expect.stringContaining('市政府办公室')]);
    expect(await page.getByTestId('wall-view').getAttribute('data-grid')).toBe('2');
    // Not shown, not received: the town's video has no consumer.
    expect((await inboundStats(page)).some((entry) => entry.participantId === town.id && entry.kind === 'video')).toBe(false);
    // Receive-only: no camera or microphone, one transport (receive) on the server, nothing to press.
    expect(await page.evaluate(() => window.__cityconf!.state().local)).toMatchObject({ cameraOn: false, microphoneOn: false, cameraDeviceId: null });
    await meeting.expectServerCounts(4, 7);
    for (const control of ['leave-button', 'toggle-microphone', 'toggle-camera']) expect(await page.getByTestId(control).count(), control).toBe(0);
    const wallId = (await page.evaluate(() => window.__cityconf!.state().selfId))!;
    for (const unit of units) {
      expect(await tileLocator(unit.page, wallId).count()).toBe(0);
      expect(await unit.page.evaluate(() => window.__cityconf!.state().participants.map((p) => p.identity))).not.toContain('command-centre');
    }

    await expect
      .poll(() => remoteVideoPlayback(page).then((videos) => videos.length > 0 && videos.every((video) => video.readyState >= 2 && video.width > 0)), { timeout: 10_000 })
      .toBe(true);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}wall.png` });
    await page.close();
    expect(meeting.pageErrors).toEqual([]);
  }, 60_000);

  it('shows everyone when no identities are given', async () => {
    const jwt = await meeting.token({ identity: 'command-centre-2', name: '指挥中心大屏二', canPublish: false });
    const { page } = await meeting.openPath('wall-all', `/wall/${meeting.room}?token=${jwt}&grid=3`);
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    await waitForMediaFrom(page, units);
    expect(await page.getByTestId('participant-tile').count()).toBe(3);
    await page.close();
  }, 60_000);

  it('says the meeting was ended for everyone, and what to do next', async () => {
    const jwt = await meeting.token({ identity: 'command-centre-3', name: '指挥中心大屏三', hidden: true });
    const { page } = await meeting.openPath('wall-ended', `/wall/${meeting.room}?token=${jwt}`);
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    const response = await fetch(`${meeting.server.url}/api/meetings/${meeting.room}/end`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}` },
    });
    expect(response.status).toBe(200);
    const ended = page.getByTestId('wall-ended');
    await ended.waitFor({ timeout: 10_000 });
    expect(await ended.getAttribute('data-reason')).toBe('meetingEnded');
    expect(await ended.textContent()).toContain('会议已由主持人结束');
    expect(await page.getByTestId('wall-next-step').textContent()).toContain('本次会议已结束');
    expect(await page.getByTestId('rejoin-button').count()).toBe(0);
    expect(meeting.pageErrors).toEqual([]);
  }, 30_000);
});
