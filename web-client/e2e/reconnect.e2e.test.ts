// Losing the signaling connection, in real Chromium against the real server: the server drops a
// client's socket, a token expires before the client has to rejoin, and the whole server restarts
// on the same port. Each time the client says what is happening in Chinese and either rejoins by
// itself with media flowing again, or stops and says what to do next.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserMeeting,
  inboundStats,
  JOIN_TIMEOUT_MS,
  statsOf,
  tileLocator,
  waitForMediaFrom,
  waitForParticipants,
  type Attendee,
} from './harness.js';

/** The server accepts a token this long after it expired (clock skew between machines). */
const TOKEN_CLOCK_TOLERANCE_MS = 5_000;

let meeting: BrowserMeeting;

function selfId(page: Page): Promise<string | null> {
  return page.evaluate(() => window.__cityconf!.state().selfId);
}

function videoFramesFrom(page: Page, participantId: string): Promise<number> {
  return inboundStats(page).then((stats) => statsOf(stats, participantId, 'video')?.framesDecoded ?? 0);
}

/** Waits until `attendee`'s page has joined again under a new participant id, and records it. */
async function waitForRejoin(attendee: Attendee, timeout = JOIN_TIMEOUT_MS): Promise<void> {
  await attendee.page.waitForFunction(
    (oldId) => {
      const state = window.__cityconf!.state();
      return state.phase === 'joined' && state.selfId !== oldId;
    },
    attendee.id,
    { timeout },
  );
  attendee.id = (await selfId(attendee.page))!;
}

/** Video from each of `others` keeps decoding on `page` (not just a frame left from before). */
async function expectVideoGrowing(page: Page, others: Attendee[]): Promise<void> {
  for (const other of others) {
    const frames = await videoFramesFrom(page, other.id);
    await expect.poll(() => videoFramesFrom(page, other.id), { timeout: 10_000 }).toBeGreaterThan(frames + 10);
  }
}

describe('losing the signaling connection', () => {
  let chair: Attendee;
  let county: Attendee;
  let town: Attendee;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-reconnect');
    chair = await meeting.join('city-office', '市政府办公室');
    county = await meeting.join('county-a', '甲县');
    town = await meeting.join('town-b', '乙镇');
    await Promise.all([chair, county, town].map(({ page }) => waitForParticipants(page, 2)));
    await waitForMediaFrom(town.page, [chair, county]);
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('rejoins by itself when the server drops its socket, and the others see it back', async () => {
    const oldId = town.id;
    meeting.disconnectSocket(town.page);

    const notice = town.page.locator('[data-testid="connection-notice"][data-notice="disconnected"]');
    await notice.waitFor({ state: 'visible', timeout: 5_000 });
    expect(await notice.textContent()).toContain('连接已断开，正在重新连接');
    await waitForRejoin(town);
    expect(town.id).not.toBe(oldId);
    await waitForParticipants(town.page, 2);
    await town.page.getByTestId('connection-notice').waitFor({ state: 'detached', timeout: 10_000 });

    await waitForMediaFrom(town.page, [chair, county]);
    await expectVideoGrowing(town.page, [chair, county]);
    for (const { page } of [chair, county]) {
      await tileLocator(page, oldId).waitFor({ state: 'detached', timeout: 10_000 });
      await tileLocator(page, town.id).waitFor({ timeout: 10_000 });
      await waitForMediaFrom(page, [town]);
    }
    await meeting.expectServerCounts(3, 6);
  }, 60_000);

  it('stops and asks for a new link when its token expired before it could rejoin', async () => {
    const mintedAt = Date.now();
    const jwt = await meeting.token({ identity: 'town-c', name: '丙镇', ttlSeconds: 8 });
    const { page } = await meeting.openPage('expiring', jwt);
    const log: string[] = [];
    page.on('console', (message) => log.push(message.text()));
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    await meeting.expectServerCounts(4, 8);

    const expiredAt = mintedAt + 8_000 + TOKEN_CLOCK_TOLERANCE_MS + 1_000;
    await new Promise((done) => setTimeout(done, Math.max(0, expiredAt - Date.now())));
    meeting.disconnectSocket(page);

    const error = page.getByTestId('join-error');
    await error.waitFor({ state: 'visible', timeout: 15_000 });
    expect(await error.getAttribute('data-error-code')).toBe('TOKEN_EXPIRED');
    expect(await error.textContent()).toContain('令牌已过期，请向会议管理员索取新的入会链接');
    expect(await page.evaluate(() => window.__cityconf!.state())).toMatchObject({ phase: 'error', errorCode: 'TOKEN_EXPIRED' });
    expect(await page.getByTestId('connection-notice').count()).toBe(0);

    // It tried once, and does not keep trying.
    const attempts = (): number => log.filter((line) => line.includes('join-failed')).length;
    expect(attempts()).toBe(1);
    await new Promise((done) => setTimeout(done, 4_000));
    expect(attempts()).toBe(1);
    expect(await page.evaluate(() => window.__cityconf!.state().phase)).toBe('error');
    await meeting.expectServerCounts(3, 6);
    await page.close();
  }, 45_000);

  it('shows that it is reconnecting while the whole server restarts, then rejoins with media, kiosk too', async () => {
    const kioskJwt = await meeting.token({ identity: 'room-3f', name: '三楼会议室' });
    const { page: kioskPage } = await meeting.openPage('kiosk', kioskJwt, { kiosk: '1' }, { autojoin: false });
    await kioskPage.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    const kiosk: Attendee = { identity: 'room-3f', name: '三楼会议室', context: kioskPage.context(), page: kioskPage, id: (await selfId(kioskPage))! };
    await waitForParticipants(chair.page, 3);
    const everyone = [chair, county, town, kiosk];
    const oldPort = new URL(meeting.server.url).port;

    await meeting.restartServer(async () => {
      for (const { page } of everyone) {
        const notice = page.locator('[data-testid="connection-notice"][data-notice="disconnected"]');
        await notice.waitFor({ state: 'visible', timeout: 5_000 });
        expect(await notice.textContent()).toContain('连接已断开，正在重新连接');
      }
      // Still down a few seconds later: the notice stays, no error page.
      await new Promise((done) => setTimeout(done, 3_000));
      for (const { page } of everyone) {
        expect(await page.getByTestId('connection-notice').count()).toBe(1);
        expect(await page.evaluate(() => window.__cityconf!.state().phase)).toBe('joining');
      }
    });
    expect(new URL(meeting.server.url).port).toBe(oldPort);

    // Retries back off to 8 s, so the first one after the restart comes within that.
    for (const attendee of everyone) await waitForRejoin(attendee, JOIN_TIMEOUT_MS + 10_000);
    for (const attendee of everyone) {
      await waitForParticipants(attendee.page, 3);
      await attendee.page.getByTestId('connection-notice').waitFor({ state: 'detached', timeout: 10_000 });
    }
    for (const attendee of everyone) {
      const others = everyone.filter((other) => other !== attendee);
      await waitForMediaFrom(attendee.page, others);
    }
    await expectVideoGrowing(kiosk.page, [chair]);
    await expectVideoGrowing(chair.page, [kiosk]);
    await meeting.expectServerCounts(4, 8);
    expect(meeting.pageErrors).toEqual([]);
  }, 120_000);

  it('says the server cannot be reached when it stays down, retries on request, and rejoins when it is back', async () => {
    // The link shortens the 30 s escalation threshold to 3 s.
    const jwt = await meeting.token({ identity: 'town-d', name: '丁镇' });
    const { page } = await meeting.openPage('unreachable', jwt, { unreachableAfterMs: '3000' });
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    const stranded: Attendee = { identity: 'town-d', name: '丁镇', context: page.context(), page, id: (await selfId(page))! };
    const log: string[] = [];
    page.on('console', (message) => log.push(message.text()));
    const attempts = (): number => log.filter((line) => line.includes('join-failed')).length;
    const everyone = [chair, county, town, stranded];
    await waitForParticipants(chair.page, 4);

    await meeting.restartServer(async () => {
      const notice = page.locator('[data-testid="connection-notice"][data-notice="disconnected"]');
      await notice.waitFor({ state: 'visible', timeout: 5_000 });
      expect(await notice.textContent()).toContain('连接已断开，正在重新连接');

      const unreachable = page.getByTestId('connection-unreachable');
      await unreachable.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await unreachable.textContent()).toContain('无法连接到会议服务器');
      expect(await unreachable.textContent()).toContain('检查网络');
      expect(await unreachable.textContent()).toContain('联系会议管理员');
      expect(await page.getByTestId('connection-retry-now').textContent()).toContain('立即重试');
      expect(await page.getByTestId('connection-leave').textContent()).toContain('离开');
      expect(await page.evaluate(() => window.__cityconf!.state().phase)).toBe('joining');

      // Attempts came 1 s and 3 s after the loss; the next is due 4 s later. 立即重试 makes one at once.
      await expect.poll(attempts, { timeout: 5_000, interval: 50 }).toBe(2);
      await page.getByTestId('connection-retry-now').click();
      await expect.poll(attempts, { timeout: 1_500, interval: 50 }).toBe(3);
      await unreachable.waitFor({ state: 'visible' });
    });

    for (const attendee of everyone) await waitForRejoin(attendee, JOIN_TIMEOUT_MS + 10_000);
    await page.getByTestId('connection-notice').waitFor({ state: 'detached', timeout: 10_000 });
    for (const attendee of everyone) await waitForParticipants(attendee.page, 4);
    await waitForMediaFrom(page, [chair, county]);
    await expectVideoGrowing(page, [chair]);
    await waitForMediaFrom(chair.page, [stranded]);
    await meeting.expectServerCounts(5, 10);
    expect(meeting.pageErrors).toEqual([]);
  }, 120_000);
});
