// End to end: a real server (signaling + mediasoup), the built web client, and real Debian
// Chromium with fake camera/microphone files. Three participants see and hear each other, one
// leaves, rejoins and closes its page, the media worker dies and everyone rejoins, and bad tokens
// are refused with a clear message.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserMeeting,
  inboundStats,
  JOIN_TIMEOUT_MS,
  remoteVideoPlayback,
  statsOf,
  tileLocator,
  waitForMediaFrom,
  waitForParticipants,
  type Attendee,
} from './harness.js';

let meeting: BrowserMeeting;

describe('web client in Chromium against the real server', () => {
  const attendees: Attendee[] = [];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-meeting');
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('three participants receive each other’s video and audio', async () => {
    attendees.push(await meeting.join('city-emergency', '市应急管理局'));
    attendees.push(await meeting.join('county-a', '甲县'));
    attendees.push(await meeting.join('town-b', '乙镇'));
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
    await meeting.expectServerCounts(3, 6);
    const [first, second, leaver] = attendees as [Attendee, Attendee, Attendee];

    for (const { page } of [first, second]) expect(await tileLocator(page, leaver.id).count()).toBe(1);
    await leaver.page.getByTestId('leave-button').click();
    await leaver.page.getByTestId('leave-confirm-button').click();
    await leaver.page.getByTestId('left-view').waitFor({ timeout: 5_000 });
    expect(await leaver.page.getByTestId('left-view').textContent()).toContain('已离开会议');
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ state: 'detached', timeout: 10_000 });
    await meeting.expectServerCounts(2, 4);

    await leaver.page.getByTestId('rejoin-button').click();
    await leaver.page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    leaver.id = (await leaver.page.evaluate(() => window.__cityconf!.state().selfId))!;
    await waitForParticipants(leaver.page, 2);
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ timeout: 10_000 });
    await waitForMediaFrom(first.page, [leaver]);
    await meeting.expectServerCounts(3, 6);

    await leaver.page.close();
    for (const { page } of [first, second]) await tileLocator(page, leaver.id).waitFor({ state: 'detached', timeout: 10_000 });
    await meeting.expectServerCounts(2, 4);
    expect(await first.page.evaluate(() => window.__cityconf!.state().participants.map((p) => p.identity))).toEqual([second.identity]);
  }, 60_000);

  it('rejoins by itself when the media server restarts', async () => {
    const [first, second] = attendees as [Attendee, Attendee];
    process.kill(meeting.server.sfu.pool.workers[0]!.pid, 'SIGKILL');

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
    await meeting.expectServerCounts(2, 4);
  }, 45_000);

  it('refuses an expired token and a token signed with another secret', async () => {
    const cases = [
      { code: 'TOKEN_EXPIRED', chinese: '令牌已过期', jwt: await meeting.token({ identity: 'late-unit', ttlSeconds: -60 }) },
      {
        code: 'UNAUTHORIZED',
        chinese: '令牌无效',
        jwt: await meeting.token({ identity: 'forger' }, { apiKey: meeting.server.config.auth.apiKey, apiSecret: 'another-secret-entirely-0123456789' }),
      },
    ];
    for (const { code, chinese, jwt } of cases) {
      const { page } = await meeting.openPage(code, jwt);
      const error = page.getByTestId('join-error');
      await error.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await error.getAttribute('data-error-code')).toBe(code);
      expect(await error.textContent()).toContain(chinese);
      expect(await page.evaluate(() => window.__cityconf!.state())).toMatchObject({ phase: 'error', errorCode: code });
      await page.close();
    }
    expect(meeting.server.sfu.stats().participants).toBe(2);
  }, 30_000);

  it('raised no uncaught errors in any page', () => {
    expect(meeting.pageErrors).toEqual([]);
  });
});
