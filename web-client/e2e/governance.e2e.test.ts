// Chairing a scheduled meeting between real browsers: a small unit directory (city → two counties
// → towns), the chair and four units. Controlled floor (a unit's microphone stays paused on the
// server until the chair grants the floor), roll call from the console (everyone sees the called
// unit large and decodes it), broadcast, 选看 (only the chair's view), the attendance CSV, ending
// the meeting, and the records surviving a server restart.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meetingRecord } from '../../signaling/src/governance/meetingRecords.js';
import type { Unit } from '../../signaling/src/store/types.js';
import { BrowserMeeting, inboundStats, waitForParticipants, type Attendee } from './harness.js';

const screenshotDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');
const ROOM = 'e2e-governance';
const MEETING_NUMBER = 31_415_926;
const POLL = { timeout: 10_000, interval: 200 };

const unit = (id: string, name: string, level: Unit['level'], parentId: string | null, sortOrder: number): Unit => ({
  id,
  name,
  level,
  parentId,
  sortOrder,
  sipUri: null,
});
const UNITS: Unit[] = [
  unit('city', '示范市', 'city', null, 0),
  unit('city-office', '市政府办公室', 'department', 'city', 0),
  unit('county-a', '甲县', 'county', 'city', 1),
  unit('town-a1', '甲一镇', 'town', 'county-a', 0),
  unit('town-a2', '甲二镇', 'town', 'county-a', 1),
  unit('county-b', '乙县', 'county', 'city', 2),
  unit('town-b1', '乙一镇', 'town', 'county-b', 0),
  unit('town-b2', '乙二镇', 'town', 'county-b', 1),
];
/** town-a2 never joins: it is listed offline, called and marked absent. */
const INVITED = ['county-a', 'town-a1', 'town-a2', 'county-b', 'town-b1'];

let meeting: BrowserMeeting;
let chair: Attendee;
let countyA: Attendee;
let townA1: Attendee;
let countyB: Attendee;
let townB1: Attendee;
let units: Attendee[];

const view = (page: Page) => page.evaluate(() => window.__cityconf!.view());
const sessionState = (page: Page) => page.evaluate(() => window.__cityconf!.state());

function microphonePaused(attendee: Attendee): boolean | undefined {
  const participant = meeting.server.sfu.meeting(ROOM)?.participants.get(attendee.id);
  const producer = [...(participant?.producers.values() ?? [])].find((candidate) => (candidate.appData as { source?: string }).source === 'microphone');
  return producer?.paused;
}

async function openConsole(page: Page): Promise<void> {
  if (await page.getByTestId('chair-console').isVisible()) return;
  await page.getByTestId('toggle-chair-console').click({ timeout: 5_000 });
  await page.getByTestId('chair-console').waitFor({ timeout: 5_000 });
}

async function openRoster(page: Page): Promise<void> {
  if (await page.getByTestId('roster-panel').isVisible()) return;
  await page.getByTestId('toggle-roster').click({ timeout: 5_000 });
  await page.getByTestId('roster-panel').waitFor({ timeout: 5_000 });
}

async function unitAction(page: Page, unitId: string, action: string): Promise<void> {
  await openRoster(page);
  await page.locator(`[data-testid="roster-member"][data-unit-id="${unitId}"] [data-testid="unit-menu-button"]`).first().click({ timeout: 5_000 });
  await page.getByTestId(`unit-action-${action}`).click({ timeout: 5_000 });
}

function focusOf(page: Page) {
  return async () => {
    const shown = await view(page);
    return { focus: shown?.focus ?? null, mainTile: shown?.mainTile ?? null, layout: shown?.layout };
  };
}

async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, name) });
}

describe('chairing a scheduled meeting', () => {
  beforeAll(async () => {
    meeting = await BrowserMeeting.start(ROOM);
    meeting.server.store.units.upsertMany(UNITS);
    meeting.server.store.meetings.create(
      meetingRecord({
        id: ROOM,
        number: MEETING_NUMBER,
        title: '全市工作调度会',
        chairUnitId: 'city-office',
        mainVenueUnitId: 'city-office',
        invitedUnitIds: INVITED,
      }),
    );
    chair = await meeting.join('city-office', '市政府办公室', {}, undefined, { role: 'chair', unitId: 'city-office' });
    countyA = await meeting.join('county-a', '甲县', {}, undefined, { role: 'participant', unitId: 'county-a' });
    townA1 = await meeting.join('town-a1', '甲一镇', {}, undefined, { role: 'participant', unitId: 'town-a1' });
    countyB = await meeting.join('county-b', '乙县', {}, undefined, { role: 'participant', unitId: 'county-b' });
    townB1 = await meeting.join('town-b1', '乙一镇', {}, undefined, { role: 'participant', unitId: 'town-b1' });
    units = [countyA, townA1, countyB, townB1];
    // The chair's screen is larger: the console and the roster have room beside the video.
    await chair.page.setViewportSize({ width: 1280, height: 900 });
    for (const attendee of [chair, ...units]) await waitForParticipants(attendee.page, 4);
  }, 120_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('offers the console to the chair only, and lists offline units in the roster', async () => {
    expect(await countyA.page.getByTestId('toggle-chair-console').count()).toBe(0);
    await openRoster(chair.page);
    const page = chair.page;
    await expect.poll(() => page.getByTestId('roster-online').getAttribute('data-total'), POLL).toBe('5');
    expect(await page.getByTestId('roster-online').getAttribute('data-count')).toBe('4');
    expect(await page.getByTestId('roster-online').textContent()).toContain('在线 4 / 5');
    const offline = page.locator('[data-testid="roster-member"][data-unit-id="town-a2"]');
    expect(await offline.getAttribute('data-online')).toBe('false');
    expect(await offline.textContent()).toContain('未入会');
    const countyGroup = page.locator('[data-testid="roster-group"][data-key="示范市/甲县"]');
    expect(await countyGroup.getAttribute('data-online')).toBe('2');
    expect(await countyGroup.getAttribute('data-listed')).toBe('3');
    await offline.scrollIntoViewIfNeeded();
    await screenshot(page, 'governance-roster.png');
  }, 30_000);

  it('holds a unit’s microphone under controlled floor until the chair grants it', async () => {
    const page = countyA.page;
    await expect.poll(() => microphonePaused(countyA), POLL).toBe(false);
    await openConsole(chair.page);
    await chair.page.getByTestId('chair-floor-controlled').click();

    const micButton = page.getByTestId('toggle-microphone');
    await expect.poll(() => micButton.getAttribute('data-floor'), POLL).toBe('request');
    await expect.poll(() => microphonePaused(countyA), POLL).toBe(true);
    expect((await sessionState(page)).local.microphoneOn).toBe(false);
    expect(await micButton.textContent()).toContain('申请发言');

    await micButton.click();
    await expect.poll(() => micButton.getAttribute('data-floor'), POLL).toBe('requested');
    expect(await micButton.textContent()).toContain('已申请');
    await new Promise((done) => setTimeout(done, 500));
    expect(microphonePaused(countyA)).toBe(true);

    const grant = chair.page.locator('[data-testid="chair-hand-queue"] li[data-unit-id="county-a"] [data-testid="chair-grant"]');
    await grant.click({ timeout: 5_000 });
    await expect.poll(() => micButton.getAttribute('data-floor'), POLL).toBeNull();
    await page.locator('[data-testid="chair-notice"][data-kind="floorGranted"]').waitFor({ timeout: 5_000 });
    await micButton.click();
    await expect.poll(() => microphonePaused(countyA), POLL).toBe(false);
    expect((await sessionState(page)).local.microphoneOn).toBe(true);
    await chair.page.locator('[data-testid="chair-floor-holders"] li[data-unit-id="county-a"]').waitFor({ timeout: 5_000 });

    await chair.page.getByTestId('chair-floor-free').click();
    await expect.poll(async () => (await sessionState(townA1.page)).local.microphoneOn, POLL).toBe(false);
  }, 40_000);

  it('calls the roll: everyone sees and decodes the called unit, which is asked to answer', async () => {
    await openConsole(chair.page);
    await chair.page.getByTestId('chair-roll-call-next').click();
    const called = `${countyA.id}:camera`;
    for (const attendee of [chair, townA1, countyB, townB1]) {
      await expect
        .poll(focusOf(attendee.page), POLL)
        .toEqual({ focus: { unitId: 'county-a', reason: 'rollCall' }, mainTile: called, layout: 'speaker' });
    }
    await countyA.page.getByTestId('roll-call-prompt').waitFor({ timeout: 5_000 });
    expect(await countyA.page.getByTestId('roll-call-prompt').textContent()).toContain('主持人正在点名：请 甲县 应答');
    const decoded = async (page: Page) => (await inboundStats(page)).find((s) => s.participantId === countyA.id && s.source === 'camera')?.framesDecoded ?? 0;
    for (const attendee of [townA1, townB1]) {
      const before = await decoded(attendee.page);
      await expect.poll(() => decoded(attendee.page), { timeout: 10_000, interval: 250 }).toBeGreaterThan(before);
    }
    expect(await townA1.page.getByTestId('focus-label').textContent()).toMatch(/点名.*·\s*甲县/);
    await screenshot(townA1.page, 'governance-roll-call.png');
    await screenshot(chair.page, 'governance-chair-console.png');

    await chair.page.getByTestId('chair-mark-present').click();
    await expect.poll(() => chair.page.getByTestId('chair-roll-call-progress').textContent(), POLL).toContain('已到 1');

    // The next unit is called: its microphone opens by itself (the call gives it the floor).
    await chair.page.getByTestId('chair-roll-call-next').click();
    await expect.poll(async () => (await view(countyB.page))?.focus, POLL).toEqual({ unitId: 'town-a1', reason: 'rollCall' });
    await expect.poll(async () => (await sessionState(townA1.page)).local.microphoneOn, POLL).toBe(true);
    await expect.poll(() => microphonePaused(townA1), POLL).toBe(false);
    await chair.page.getByTestId('chair-mark-present').click();

    // An offline unit: a placeholder with its name, then marked absent.
    await chair.page.getByTestId('chair-roll-call-next').click();
    await expect.poll(focusOf(countyB.page), POLL).toEqual({ focus: { unitId: 'town-a2', reason: 'rollCall' }, mainTile: null, layout: 'speaker' });
    expect(await countyB.page.getByTestId('absent-unit-tile').textContent()).toContain('甲二镇');
    await chair.page.getByTestId('chair-mark-absent').click();
    await expect.poll(() => chair.page.getByTestId('chair-roll-call-progress').getAttribute('data-called'), POLL).toBe('3');
    expect(await chair.page.getByTestId('chair-roll-call-progress').textContent()).toContain('已点名 3/5');
    await chair.page.getByTestId('chair-roll-call-finish').click();
    await expect
      .poll(focusOf(countyB.page), POLL)
      .toEqual({ focus: { unitId: 'city-office', reason: 'mainVenue' }, mainTile: null, layout: 'gallery' });

    await openRoster(chair.page);
    const badge = (unitId: string) => chair.page.locator(`[data-testid="roster-member"][data-unit-id="${unitId}"]`).getAttribute('data-roll-call');
    await expect.poll(() => badge('county-a'), POLL).toBe('present');
    expect(await badge('town-a2')).toBe('absent');
  }, 60_000);

  it('broadcasts a venue to everyone, and returns to the main venue when cancelled', async () => {
    await unitAction(chair.page, 'county-b', 'broadcast');
    const broadcast = { focus: { unitId: 'county-b', reason: 'broadcast' }, mainTile: `${countyB.id}:camera`, layout: 'speaker' };
    for (const attendee of [chair, countyA, townA1, townB1]) await expect.poll(focusOf(attendee.page), POLL).toEqual(broadcast);
    expect(await countyA.page.getByTestId('focus-label').textContent()).toMatch(/广播.*·\s*乙县/);

    await openConsole(chair.page);
    await chair.page.getByTestId('chair-cancel-broadcast').click();
    for (const attendee of [countyA, townA1, townB1]) {
      await expect.poll(focusOf(attendee.page), POLL).toEqual({ focus: { unitId: 'city-office', reason: 'mainVenue' }, mainTile: null, layout: 'gallery' });
    }
  }, 40_000);

  it('watches a venue on the chair’s screen only', async () => {
    await unitAction(chair.page, 'town-b1', 'watch');
    await expect
      .poll(focusOf(chair.page), POLL)
      .toEqual({ focus: { unitId: 'town-b1', reason: 'watch' }, mainTile: `${townB1.id}:camera`, layout: 'speaker' });
    expect((await view(countyA.page))?.focus).toEqual({ unitId: 'city-office', reason: 'mainVenue' });
    await unitAction(chair.page, 'town-b1', 'watch');
    await expect.poll(async () => (await view(chair.page))?.focus, POLL).toEqual({ unitId: 'city-office', reason: 'mainVenue' });
  }, 30_000);

  it('exports the attendance sheet from the console', async () => {
    await openConsole(chair.page);
    const [download] = await Promise.all([
      chair.page.waitForEvent('download', { timeout: 10_000 }),
      chair.page.getByTestId('chair-export-attendance').click(),
    ]);
    expect(download.suggestedFilename()).toBe(`签到-${MEETING_NUMBER}.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    const row = (unitId: string) => csv.split('\r\n').find((line) => line.startsWith(`${unitId},`)) ?? '';
    expect(row('county-a')).toContain('出席');
    expect(row('county-a')).toContain('已到');
    expect(row('town-a2')).toContain('未到');
    expect(row('town-b1')).toContain('出席');
  }, 30_000);

  it('ends the meeting for every unit', async () => {
    await openConsole(chair.page);
    await chair.page.getByTestId('chair-end-meeting').click();
    await chair.page.getByTestId('end-meeting-confirm-button').click();
    for (const attendee of units) {
      const left = attendee.page.getByTestId('left-view');
      await left.waitFor({ timeout: 10_000 });
      expect(await left.getAttribute('data-reason')).toBe('meetingEnded');
      expect(await left.textContent()).toContain('会议已由主持人结束');
      expect(await attendee.page.getByTestId('rejoin-button').count()).toBe(0);
    }
    expect(meeting.pageErrors).toEqual([]);
  }, 30_000);

  it('keeps the meeting, roll calls and attendance across a server restart', async () => {
    await meeting.restartServer(async () => undefined);
    const store = meeting.server.store;
    expect(store.meetings.get(ROOM)).toMatchObject({ number: MEETING_NUMBER, state: 'ended' });
    const results = Object.fromEntries(store.attendance.rollCalls(ROOM).map((record) => [record.unitId, record.result]));
    expect(results).toEqual({ 'county-a': 'present', 'town-a1': 'present', 'town-a2': 'absent' });
    const present = new Set(store.attendance.presences(ROOM).map((presence) => presence.unitId));
    for (const unitId of ['city-office', 'county-a', 'town-a1', 'county-b', 'town-b1']) expect(present).toContain(unitId);
  }, 30_000);
});
