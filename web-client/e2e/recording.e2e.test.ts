// Recording a meeting of three fake-media Chromium participants: the chair starts and stops it in
// the console, everyone sees 录制中, the server writes one file per track without transcoding and a
// composite MP4 whose codecs, streams and duration ffprobe confirms, and the files stream back with
// range requests to the chair (not to a unit).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, type Attendee } from './harness';

const run = promisify(execFile);
const RECORD_SECONDS = 20;

interface Probe {
  format: { duration: string };
  streams: { codec_type: string; codec_name: string }[];
}

async function ffprobe(url: string): Promise<Probe> {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type,codec_name', '-of', 'json', url]);
  return JSON.parse(stdout) as Probe;
}

async function openConsole(page: Page): Promise<void> {
  if (await page.getByTestId('chair-console').isVisible()) return;
  await page.getByTestId('toggle-chair-console').click({ timeout: 5_000 });
  await page.getByTestId('chair-console').waitFor({ timeout: 5_000 });
}

describe('meeting recording', () => {
  let meeting: BrowserMeeting;
  let chair: Attendee;
  let others: Attendee[];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('rec-e2e');
    chair = await meeting.join('city', '市政府办公室', {}, undefined, { role: 'chair', unitId: 'city' });
    others = [
      await meeting.join('county-a', '甲县人民政府', {}, undefined, { role: 'participant', unitId: 'county-a' }),
      await meeting.join('town-b', '乙镇人民政府', {}, undefined, { role: 'participant', unitId: 'town-b' }),
    ];
  }, 120_000);

  afterAll(async () => {
    await meeting?.close();
  });

  it('records every track and a composite of a 20 s meeting, and serves them to the chair only', async () => {
    await openConsole(chair.page);
    const startClicked = Date.now();
    await chair.page.getByTestId('chair-start-recording').click();
    for (const { page } of [chair, ...others]) {
      await page.getByTestId('recording-indicator').waitFor({ timeout: 10_000 });
      expect(await page.getByTestId('recording-indicator').textContent()).toContain('录制中');
    }
    const started = Date.now();
    const recorder = meeting.server.recorder;
    const recordingId = recorder.state('rec-e2e').recordingId!;
    expect(recordingId).toBeTruthy();
    // Every participant's camera and microphone are being written.
    await expect.poll(async () => (await meeting.server.recordings.get(recordingId)).manifest.tracks.length, { timeout: 15_000 }).toBe(6);

    await new Promise((done) => setTimeout(done, RECORD_SECONDS * 1000 - (Date.now() - started)));
    await chair.page.getByTestId('chair-stop-recording').click();
    const stopClicked = Date.now();
    await chair.page.getByTestId('stop-recording-confirm-button').click();
    for (const { page } of [chair, ...others]) await page.getByTestId('recording-indicator').waitFor({ state: 'detached', timeout: 10_000 });
    const stopped = Date.now();

    // The composite is made after the stop; the listing says when it is there.
    const token = await meeting.token({ identity: 'city', role: 'chair', unitId: 'city' });
    const list = async (bearer: string) =>
      fetch(`${meeting.server.url}/api/meetings/rec-e2e/recordings`, { headers: { authorization: `Bearer ${bearer}` } });
    let recording: any;
    await expect
      .poll(
        async () => {
          recording = (await (await list(token)).json()).items[0];
          return recording.status;
        },
        { timeout: 60_000, interval: 1000 },
      )
      .toBe('complete');
    expect(recording.id).toBe(recordingId);
    // As long as it was recording (between what the page showed and the clicks), within 1.5 s.
    expect(recording.durationS).toBeGreaterThan((stopClicked - started) / 1000 - 1.5);
    expect(recording.durationS).toBeLessThan((stopped - startClicked) / 1000 + 1.5);
    expect(recording.tracks.map((track: { name: string }) => track.name).sort()).toEqual(
      ['乙镇人民政府', '乙镇人民政府', '甲县人民政府', '甲县人民政府', '市政府办公室', '市政府办公室'].sort(),
    );

    // Per-track files keep the browsers' codecs; the composite is one H.264 + AAC MP4 of the meeting's length.
    const fileUrl = (name: string) => `${meeting.server.url}${recording.files.find((file: { name: string }) => file.name === name).url}?access_token=${token}`;
    for (const track of recording.tracks) {
      const probe = await ffprobe(fileUrl(track.file));
      expect(probe.streams.map((stream) => stream.codec_name)).toEqual([track.kind === 'video' ? 'vp8' : 'opus']);
      expect(Number(probe.format.duration)).toBeGreaterThan(RECORD_SECONDS - 4);
    }
    const composite = await ffprobe(fileUrl(recording.composite.file));
    expect(composite.streams.map((stream) => `${stream.codec_type}:${stream.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
    expect(Math.abs(Number(composite.format.duration) - recording.durationS)).toBeLessThanOrEqual(1);

    // Range requests (the browser's player seeks with them); a unit's token may not read recordings.
    const partial = await fetch(fileUrl(recording.composite.file), { headers: { range: 'bytes=100-199' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 100-199/${recording.composite.sizeBytes}`);
    expect((await partial.arrayBuffer()).byteLength).toBe(100);
    const unitToken = await meeting.token({ identity: 'county-a', role: 'participant', unitId: 'county-a' });
    expect((await list(unitToken)).status).toBe(403);
    expect((await fetch(`${meeting.server.url}${recording.files[0].url}?access_token=${unitToken}`)).status).toBe(403);

    // The chair's console lists it and plays the composite in the browser.
    await chair.page.getByTestId('chair-recordings').click();
    await chair.page.getByTestId('recording-item').first().waitFor({ timeout: 10_000 });
    expect(await chair.page.getByTestId('recording-status').first().textContent()).toBeTruthy();
    await chair.page.getByTestId('recording-play').first().click();
    await expect
      .poll(() => chair.page.getByTestId('recording-video').evaluate((video: HTMLVideoElement) => video.readyState), { timeout: 10_000 })
      .toBeGreaterThanOrEqual(2);
    expect(meeting.pageErrors).toEqual([]);
  }, 150_000);
});
