// Layouts and subscriptions end to end: five participants; a viewer receives video only for the
// tiles it shows (hidden ones are paused on the server), the speaker layout puts the active speaker
// large, and a shared screen reaches the others as its own tile until the sharer stops.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, inboundStats, waitForMediaFrom, waitForParticipants, type Attendee } from './harness.js';

const screenshotDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');
let meeting: BrowserMeeting;

function view(page: Page) {
  return page.evaluate(() => window.__cityconf!.view());
}

/**
 * Waits until the server holds a resumed consumer for every video the view shows and, for the rest,
 * a paused one or none (released).
 */
async function expectServerFollowsView(viewer: Attendee, others: Attendee[]): Promise<void> {
  await expect
    .poll(
      async () => {
        const shown = (await view(viewer.page))!;
        const states = serverVideoConsumers(viewer, others);
        return others
          .filter((other) =>
            shown.videoVisible.includes(other.id) ? states[other.id] !== 'resumed' : states[other.id] === 'resumed',
          )
          .map((other) => `${other.identity} ${shown.videoVisible.includes(other.id) ? 'shown' : 'hidden'} but ${states[other.id]}`);
      },
      { timeout: 10_000 },
    )
    .toEqual([]);
}

/** The viewer's video consumers on the server, by the participant whose camera or screen they carry. */
function serverVideoConsumers(viewer: Attendee, others: Attendee[], source: 'camera' | 'screen' = 'camera') {
  const media = meeting.server.sfu.meeting(meeting.room)!;
  const consumers = [...media.participants.get(viewer.id)!.consumers.values()];
  return Object.fromEntries(
    others.map((other) => {
      const producer = [...(media.participants.get(other.id)?.producers.values() ?? [])].find(
        (p) => p.kind === 'video' && (p.appData as { source?: string }).source === source,
      );
      const consumer = producer && consumers.find((c) => c.producerId === producer.id && !c.closed);
      return [other.id, consumer ? (consumer.paused ? 'paused' : 'resumed') : 'none'];
    }),
  );
}

async function framesDecoded(page: Page, participantId: string, source: 'camera' | 'screen'): Promise<number> {
  const stats = await inboundStats(page);
  return stats.find((entry) => entry.participantId === participantId && entry.kind === 'video' && entry.source === source)?.framesDecoded ?? 0;
}

describe('meeting layouts', () => {
  const others: Attendee[] = [];
  let viewer: Attendee;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-layouts', { width: 320, height: 240, fps: 10 });
    mkdirSync(screenshotDir, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('in a 3×3 gallery everyone’s video decodes', async () => {
    viewer = await meeting.join('city-office', '市政府办公室');
    for (const [identity, name] of [
      ['county-a', '甲县'],
      ['county-b', '乙县'],
      ['town-c', '丙镇'],
      ['town-d', '丁镇'],
    ] as const) {
      others.push(await meeting.join(identity, name));
    }
    await waitForParticipants(viewer.page, 4);
    await viewer.page.getByTestId('grid-size').selectOption('3');
    await expect.poll(() => view(viewer.page)).toMatchObject({ layout: 'gallery', gridSize: 3, page: 0, pageCount: 1 });

    await waitForMediaFrom(viewer.page, others);
    expect((await view(viewer.page))!.videoVisible.sort()).toEqual(others.map((o) => o.id).sort());
    const expected = Object.fromEntries(others.map((other) => [other.id, 'resumed']));
    await expect.poll(() => serverVideoConsumers(viewer, others), { timeout: 10_000 }).toEqual(expected);
    await viewer.page.screenshot({ path: join(screenshotDir, 'gallery.png') });
  }, 120_000);

  it('the speaker layout shows the speaker large and receives no video for hidden thumbnails', async () => {
    // A narrow window: the strip holds the local thumbnail and one remote one.
    await viewer.page.setViewportSize({ width: 560, height: 600 });
    await viewer.page.getByTestId('layout-speaker').click();
    await expect.poll(async () => (await view(viewer.page))?.layout).toBe('speaker');

    // The server's active speaker large; until a remote one has spoken, the first participant with video.
    await expect
      .poll(async () => {
        const shown = (await view(viewer.page))!;
        const speaker = others.find((other) => other.id === shown.activeSpeakerId);
        return speaker ? shown.mainTile === `${speaker.id}:camera` : others.some((other) => shown.mainTile === `${other.id}:camera`);
      })
      .toBe(true);
    expect(await viewer.page.getByTestId('main-tile').locator('[data-testid="participant-tile"]').count()).toBe(1);
    const shown = (await view(viewer.page))!;
    expect(shown.pageCount).toBeGreaterThan(1);
    expect(shown.videoVisible.length).toBeGreaterThanOrEqual(2);
    expect(shown.videoVisible.length).toBeLessThan(others.length);
    await expectServerFollowsView(viewer, others);

    // Shown videos decode, hidden ones do not (measured over 2 s in which the view did not change;
    // the active speaker may move the main tile meanwhile).
    for (let attempt = 1; ; attempt++) {
      const viewBefore = (await view(viewer.page))!;
      const before = await Promise.all(others.map((other) => framesDecoded(viewer.page, other.id, 'camera')));
      await new Promise((done) => setTimeout(done, 2_000));
      const after = await Promise.all(others.map((other) => framesDecoded(viewer.page, other.id, 'camera')));
      const viewAfter = (await view(viewer.page))!;
      if (viewBefore.videoVisible.join() !== viewAfter.videoVisible.join() && attempt < 3) continue;
      others.forEach((other, index) => {
        if (viewAfter.videoVisible.includes(other.id)) expect(after[index], `${other.identity} shown`).toBeGreaterThan(before[index]!);
        else expect(after[index], `${other.identity} hidden`).toBe(before[index]);
      });
      break;
    }
    await viewer.page.screenshot({ path: join(screenshotDir, 'speaker.png') });

    // The next strip page swaps which thumbnails are received.
    await viewer.page.getByTestId('next-page').click();
    await expect.poll(async () => (await view(viewer.page))?.page).toBe(1);
    await expectServerFollowsView(viewer, others);

    // Hidden videos give their server consumers back (after a minute; at once through the hook),
    // and paging back consumes them again.
    const visibleBefore = (await view(viewer.page))!.videoVisible;
    const released = others.filter((other) => !visibleBefore.includes(other.id));
    // Released on every poll: the active speaker may move the main tile meanwhile, hiding a video
    // after an earlier release.
    await expect
      .poll(async () => {
        await viewer.page.evaluate(() => window.__cityconf!.releaseHiddenVideo());
        const visible = (await view(viewer.page))!.videoVisible;
        const states = serverVideoConsumers(viewer, released);
        return released.filter((other) => states[other.id] !== (visible.includes(other.id) ? 'resumed' : 'none')).length;
      })
      .toBe(0);
    expect(Object.values(serverVideoConsumers(viewer, released))).toContain('none');
    await viewer.page.getByTestId('previous-page').click();
    await expect.poll(async () => (await view(viewer.page))?.page).toBe(0);
    await expectServerFollowsView(viewer, others);
    const reshown = released.find((other) => serverVideoConsumers(viewer, [other])[other.id] === 'resumed');
    expect(reshown).toBeDefined();
    await expect.poll(() => framesDecoded(viewer.page, reshown!.id, 'camera'), { timeout: 15_000 }).toBeGreaterThan(0);
  }, 60_000);

  it('a shared screen takes the main area for the others and goes away when the sharer stops', async () => {
    const sharer = others[2]!;
    const galleryWatcher = others[0]!;
    await sharer.page.getByTestId('toggle-screen-share').click();
    await sharer.page.getByTestId('screen-share-indicator').waitFor({ timeout: 10_000 });
    expect(await sharer.page.getByTestId('screen-share-indicator').textContent()).toContain('你正在共享屏幕');

    await expect.poll(async () => (await view(viewer.page))?.mainTile, { timeout: 15_000 }).toBe(`${sharer.id}:screen`);
    await viewer.page.getByTestId('screen-tile').waitFor({ timeout: 10_000 });
    await galleryWatcher.page.getByTestId('screen-tile').waitFor({ timeout: 10_000 });
    await expect.poll(() => framesDecoded(viewer.page, sharer.id, 'screen'), { timeout: 20_000 }).toBeGreaterThan(0);
    const first = await framesDecoded(viewer.page, sharer.id, 'screen');
    await expect.poll(() => framesDecoded(viewer.page, sharer.id, 'screen'), { timeout: 10_000 }).toBeGreaterThan(first);
    await expect.poll(() => framesDecoded(galleryWatcher.page, sharer.id, 'screen'), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(serverVideoConsumers(viewer, [sharer], 'screen')).toEqual({ [sharer.id]: 'resumed' });

    await sharer.page.getByTestId('stop-screen-share').click();
    await sharer.page.getByTestId('screen-share-indicator').waitFor({ state: 'detached', timeout: 5_000 });
    for (const page of [viewer.page, galleryWatcher.page]) {
      await page.getByTestId('screen-tile').waitFor({ state: 'detached', timeout: 10_000 });
    }
    expect(serverVideoConsumers(viewer, [sharer], 'screen')).toEqual({ [sharer.id]: 'none' });
    await expect.poll(async () => (await view(viewer.page))?.mainTile).not.toBe(`${sharer.id}:screen`);
    expect(meeting.pageErrors).toEqual([]);
  }, 60_000);
});
