// An official signs in with the unit's account on the home page, sees the unit's meetings and
// enters one, in real Chromium against the real server and its admin API.
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_OPERATOR_API_KEY } from '../../signaling/src/config.js';
import { BrowserMeeting, JOIN_TIMEOUT_MS } from './harness.js';

const SCREENSHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
let meeting: BrowserMeeting;

async function api(method: string, path: string, body: unknown): Promise<unknown> {
  const response = await fetch(`${meeting.server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${DEV_OPERATOR_API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

describe('signing in with a unit account', () => {
  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-login');
    await api('POST', '/api/units', { id: 'jz', name: '江州市', level: 'city', parentId: null });
    await api('POST', '/api/units', { id: 'jz-a', name: '甲县', level: 'county', parentId: 'jz' });
    await api('POST', '/api/accounts', { username: 'jiaxian', displayName: '甲县办公室', role: 'unit', unitId: 'jz-a', password: 'jiaxian-2026' });
    await api('POST', '/api/meetings', {
      id: meeting.room,
      title: '全市防汛工作会议',
      startsAt: Date.now() + 3_600_000,
      chairUnitId: 'jz',
      invite: { units: ['jz-a'] },
    });
    await api('POST', '/api/meetings', { id: 'not-ours', title: '其他会议', startsAt: Date.now() + 3_600_000, chairUnitId: 'jz' });
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('refuses a wrong password, lists only the unit’s meetings, and joins one as that unit', async () => {
    const { page } = await meeting.openPath('home', '/', { width: 1280, height: 720 });
    await page.getByTestId('login-username').fill('jiaxian');
    await page.getByTestId('login-password').fill('wrong-password');
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('用户名或密码错误');

    await page.getByTestId('login-password').fill('jiaxian-2026');
    await page.getByTestId('login-submit').click();
    const list = page.getByTestId('my-meetings');
    await list.waitFor({ timeout: 10_000 });
    expect(await list.locator('li').allTextContents()).toEqual([expect.stringContaining('全市防汛工作会议')]);
    expect(await list.textContent()).toContain('参会单位');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}login-my-meetings.png` });

    await page.getByTestId('my-meeting-enter').click();
    await page.waitForURL(/\/m\/e2e-login\?token=/, { timeout: 10_000 });
    await page.getByTestId('join-button').click();
    await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
    const self = await page.evaluate(() => window.__cityconf!.state());
    expect(self).toMatchObject({ role: 'participant' });
    const members = meeting.server.roster.participants(meeting.room);
    expect(members.map((member) => [member.identity, member.name, member.role])).toEqual([['jz-a', '甲县', 'participant']]);
  });
});
