// Drone and camera feeds in the browser: a synthetic 1080p30 H.264 High + AAC drone pushed over RTMP
// and a Chromium publishing over WHIP both go live on the command-centre wall, which decodes them;
// the drone shared into a meeting is decoded by a participant there, and taken out again.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FfmpegProcess } from '@cityconf/sfu';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config';
import { COMMAND_CENTRE_MEETING_ID } from '../../signaling/src/protocol';
import { BrowserMeeting, inboundStats, type Attendee } from './harness';

const logger = pino({ level: 'silent' });
const screenshotDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');

async function api(meeting: BrowserMeeting, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${meeting.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function framesOf(page: Page, participantId: string): Promise<number> {
  return (await inboundStats(page)).find((stats) => stats.participantId === participantId && stats.source === 'camera')?.framesDecoded ?? 0;
}

/** Publishes the page's fake camera and microphone over WHIP, as a browser WHIP client would. */
async function publishWhip(page: Page, endpoint: string, bearer: string): Promise<number> {
  return page.evaluate(
    async ({ endpoint, bearer }) => {
      const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
      const pc = new RTCPeerConnection();
      for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      });
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${bearer}` },
        body: pc.localDescription!.sdp,
      });
      if (response.status !== 201) return response.status;
      await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
      (window as unknown as { whipPc: RTCPeerConnection }).whipPc = pc;
      return 201;
    },
    { endpoint, bearer },
  );
}

describe('drone and camera feeds', () => {
  let meeting: BrowserMeeting;
  let drone: FfmpegProcess | undefined;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('feeds-e2e');
  }, 60_000);

  afterAll(async () => {
    await drone?.stop(1000);
    await meeting?.close();
  });

  it('shows an RTMP drone and a WHIP publisher live on the command wall, and shares the drone into a meeting', async () => {
    const rtmpFeed = await api(meeting, 'POST', '/api/feeds', { name: '1号无人机', kind: 'rtmp' });
    const whipFeed = await api(meeting, 'POST', '/api/feeds', { name: '移动执法记录仪', kind: 'whip' });
    drone = new FfmpegProcess('drone', [
      '-re', '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30', '-re', '-f', 'lavfi', '-i', 'sine',
      '-c:v', 'libx264', '-profile:v', 'high', '-preset', 'ultrafast', '-tune', 'zerolatency', '-bf', '0', '-g', '30', '-pix_fmt', 'yuv420p',
      '-c:a', 'aac', '-f', 'flv', (rtmpFeed.publish.rtmp as string).replace('localhost', '127.0.0.1'),
    ], logger);

    // The command centre wall.
    const wallToken = await meeting.token({ identity: 'command-wall', role: 'observer', room: COMMAND_CENTRE_MEETING_ID, hidden: true });
    const { page: wall } = await meeting.openPath('wall', `/command?token=${encodeURIComponent(wallToken)}`, { width: 1280, height: 720 });
    await wall.getByTestId('command-view').waitFor({ timeout: 15_000 });
    const droneTile = wall.locator(`[data-testid="feed-tile"][data-feed-id="${rtmpFeed.id}"]`);
    await expect.poll(() => droneTile.getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    const droneParticipant = `feed-${rtmpFeed.id}`;
    await expect.poll(() => framesOf(wall, droneParticipant), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(await droneTile.getByTestId('feed-resolution').textContent()).toContain('1920');
    const status = (await api(meeting, 'GET', `/api/feeds/${rtmpFeed.id}`)).status;
    expect(status.video).toMatchObject({ codec: 'h264', width: 1920, height: 1080, transcoded: false });

    // A browser publishing over WHIP with the feed's token; a wrong token is refused.
    const { page: publisher } = await meeting.openPath('whip-publisher', '/');
    expect(await publishWhip(publisher, `${meeting.server.url}/whip/${whipFeed.id}`, 'wrong-token')).toBe(401);
    expect(await publishWhip(publisher, `${meeting.server.url}/whip/${whipFeed.id}`, whipFeed.publish.bearerToken)).toBe(201);
    const whipTile = wall.locator(`[data-testid="feed-tile"][data-feed-id="${whipFeed.id}"]`);
    await expect.poll(() => whipTile.getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    await expect.poll(() => framesOf(wall, `feed-${whipFeed.id}`), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(await wall.getByTestId('command-online').getAttribute('data-online')).toBe('2');
    mkdirSync(screenshotDir, { recursive: true });
    await wall.screenshot({ path: join(screenshotDir, 'command-centre.png') });

    // Shared into a meeting, the drone is a participant tile that a unit decodes.
    const chair: Attendee = await meeting.join('city', '市政府办公室', {}, undefined, { role: 'chair', unitId: 'city' });
    const unit: Attendee = await meeting.join('county-a', '甲县人民政府', {}, undefined, { role: 'participant', unitId: 'county-a' });
    await api(meeting, 'POST', '/api/meetings/feeds-e2e/feeds', { feedId: rtmpFeed.id });
    await unit.page.locator(`[data-testid="participant-tile"][data-feed-id="${rtmpFeed.id}"]`).waitFor({ timeout: 15_000 });
    await expect.poll(() => framesOf(unit.page, droneParticipant), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(await unit.page.getByTestId('feed-badge').first().isVisible()).toBe(true);
    await unit.page.screenshot({ path: join(screenshotDir, 'feed-in-meeting.png') });

    // The chair takes it out from the console.
    await chair.page.getByTestId('toggle-chair-console').click();
    const chairFeed = chair.page.locator(`[data-testid="chair-feed"][data-feed-id="${rtmpFeed.id}"]`);
    await chairFeed.getByTestId('chair-feed-unshare').click({ timeout: 10_000 });
    await unit.page.locator(`[data-testid="participant-tile"][data-feed-id="${rtmpFeed.id}"]`).waitFor({ state: 'detached', timeout: 10_000 });
    expect(meeting.pageErrors).toEqual([]);
  }, 150_000);
});
