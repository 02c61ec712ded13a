// Chat and raised hands between real browsers: a message reaches the others (with an unread badge
// until they open the chat) and late joiners (history); a raised hand shows on the others' tiles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, waitForParticipants, type Attendee } from './harness.js';

let meeting: BrowserMeeting;

describe('chat and raised hands', () => {
  let chair: Attendee;
  let county: Attendee;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-chat');
    chair = await meeting.join('city-office', '市政府办公室');
    county = await meeting.join('county-a', '甲县');
    await waitForParticipants(chair.page, 1);
    await waitForParticipants(county.page, 1);
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('delivers a message, counts it unread until opened, and replays it to a late joiner', async () => {
    await chair.page.getByTestId('toggle-chat').click();
    await chair.page.getByTestId('chat-input').fill('请各单位检查音视频设备。');
    await chair.page.getByTestId('chat-input').press('Enter');
    await chair.page.getByTestId('chat-message').filter({ hasText: '请各单位检查音视频设备。' }).waitFor({ timeout: 5_000 });
    expect(await chair.page.getByTestId('chat-input').inputValue()).toBe('');

    await expect.poll(() => county.page.getByTestId('chat-unread').textContent(), { timeout: 5_000 }).toBe('1');
    await county.page.getByTestId('toggle-chat').click();
    const received = county.page.getByTestId('chat-message').filter({ hasText: '请各单位检查音视频设备。' });
    await received.waitFor({ timeout: 5_000 });
    expect(await received.textContent()).toContain('市政府办公室');
    expect(await county.page.getByTestId('chat-unread').count()).toBe(0);

    // An over-long message is refused before sending.
    await county.page.getByTestId('chat-input').fill('x'.repeat(2001));
    expect(await county.page.getByTestId('chat-send').isDisabled()).toBe(true);
    await county.page.getByTestId('chat-input').fill('收到');
    await county.page.getByTestId('chat-send').click();
    await chair.page.getByTestId('chat-message').filter({ hasText: '收到' }).waitFor({ timeout: 5_000 });

    const town = await meeting.join('town-b', '乙镇');
    await town.page.getByTestId('toggle-chat').click();
    await expect.poll(() => town.page.getByTestId('chat-message').allTextContents(), { timeout: 5_000 }).toEqual([
      expect.stringContaining('请各单位检查音视频设备。'),
      expect.stringContaining('收到'),
    ]);
    await town.page.close();
  }, 60_000);

  it('shows a raised hand on the others’ tiles until it is lowered', async () => {
    const tileOnChair = chair.page.locator(`[data-testid="participant-tile"][data-participant-id="${county.id}"]`);
    await county.page.getByTestId('toggle-hand').click();
    await expect.poll(() => tileOnChair.getAttribute('data-hand-raised'), { timeout: 5_000 }).toBe('true');
    expect(await tileOnChair.textContent()).toContain('已举手');
    await expect.poll(() => county.page.getByTestId('toggle-hand').getAttribute('aria-pressed')).toBe('true');

    await county.page.getByTestId('toggle-hand').click();
    await expect.poll(() => tileOnChair.getAttribute('data-hand-raised'), { timeout: 5_000 }).toBe('false');
    expect(meeting.pageErrors).toEqual([]);
  }, 30_000);
});
