// The roster (参会单位) between real browsers: units from two counties as a tree with online
// counts, search by Chinese and by pinyin initials, a raised hand showing in the others' rosters,
// and a participant who leaves disappearing from them.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, waitForParticipants, type Attendee } from './harness.js';

const screenshotDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');

let meeting: BrowserMeeting;

function memberIds(page: Page): Promise<string[]> {
  return page.locator('[data-testid="roster-member"]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.participantId ?? ''));
}

function group(page: Page, key: string) {
  return page.locator(`[data-testid="roster-group"][data-key="${key}"]`);
}

describe('roster', () => {
  let county: Attendee;
  let town: Attendee;
  let otherCounty: Attendee;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-roster');
    county = await meeting.join('county-a', '甲县人民政府', {}, { unit: '甲县/甲县人民政府' });
    town = await meeting.join('town-b', '乙镇人民政府', {}, { unit: '甲县/乙镇人民政府' });
    otherCounty = await meeting.join('county-c', '丙县人民政府', {}, { unit: '丙县/丙县人民政府' });
    for (const attendee of [county, town, otherCounty]) await waitForParticipants(attendee.page, 2);
  }, 120_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('shows everyone as a unit tree with online counts', async () => {
    const page = county.page;
    expect(await page.getByTestId('roster-count').textContent()).toBe('3');
    await page.getByTestId('toggle-roster').click();
    await page.getByTestId('roster-panel').waitFor({ timeout: 5_000 });
    await expect.poll(() => page.getByTestId('roster-online').getAttribute('data-count')).toBe('3');
    expect(await group(page, '甲县').getAttribute('data-online')).toBe('2');
    expect(await group(page, '甲县/乙镇人民政府').getAttribute('data-online')).toBe('1');
    expect(await group(page, '丙县').getAttribute('data-online')).toBe('1');
    expect(await group(page, '甲县').textContent()).toContain('在线 2');
    expect(new Set(await memberIds(page))).toEqual(new Set([county.id, town.id, otherCounty.id]));
    expect(await page.locator(`[data-testid="roster-member"][data-participant-id="${county.id}"]`).textContent()).toContain('我');

    // Collapsing a county hides its units and members.
    await group(page, '甲县').click();
    await expect.poll(() => memberIds(page)).toEqual([otherCounty.id]);
    await group(page, '甲县').click();
    await expect.poll(async () => (await memberIds(page)).length).toBe(3);
  }, 30_000);

  it('finds units by Chinese and by pinyin initials', async () => {
    const page = county.page;
    const search = page.getByTestId('roster-search');
    await search.fill('丙县');
    await expect.poll(() => memberIds(page)).toEqual([otherCounty.id]);
    // 甲县 → jx, once the pinyin chunk has loaded on first use of the search box.
    await search.fill('jx');
    await expect.poll(() => memberIds(page), { timeout: 10_000 }).toEqual([county.id, town.id]);
    await search.fill('yzrmzf');
    await expect.poll(() => memberIds(page)).toEqual([town.id]);
    await search.fill('无此单位');
    await page.getByTestId('roster-empty').waitFor({ timeout: 5_000 });
    await search.fill('');
    await expect.poll(async () => (await memberIds(page)).length).toBe(3);
  }, 30_000);

  it('shows a raised hand and a muted microphone in the others’ rosters', async () => {
    const page = county.page;
    await town.page.getByTestId('toggle-hand').click();
    const row = page.locator(`[data-testid="roster-member"][data-participant-id="${town.id}"]`);
    await expect.poll(() => row.getAttribute('data-hand-raised'), { timeout: 5_000 }).toBe('true');
    // Mic status for tests and screen readers: the town mutes itself.
    expect(await row.getAttribute('data-mic')).toBe('on');
    await town.page.getByTestId('toggle-microphone').click();
    await expect.poll(() => row.getAttribute('data-mic'), { timeout: 5_000 }).toBe('off');
    expect(await row.getByRole('img', { name: /^麦克风已静音/ }).count()).toBe(1);
    expect(await group(page, '甲县').getAttribute('data-hands')).toBe('1');
    await page.getByTestId('roster-hands-only').click();
    await expect.poll(() => memberIds(page)).toEqual([town.id]);
    await page.getByTestId('roster-hands-only').click();
    await expect.poll(async () => (await memberIds(page)).length).toBe(3);
    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, 'roster.png') });
  }, 30_000);

  it('drops a participant who leaves', async () => {
    const page = county.page;
    await otherCounty.page.close();
    await expect.poll(() => memberIds(page), { timeout: 10_000 }).toEqual(expect.not.arrayContaining([otherCounty.id]));
    expect(await group(page, '丙县').count()).toBe(0);
    await expect.poll(() => page.getByTestId('roster-online').getAttribute('data-count')).toBe('2');
    expect(await page.getByTestId('roster-count').textContent()).toBe('2');
    expect(meeting.pageErrors).toEqual([]);
  }, 30_000);
});
