// End to end: the pre-join lobby (preview, microphone meter, device pickers, remembered choice,
// listen-only, refused permission) and switching the camera mid-call without republishing, in
// real Chromium with three fake cameras against the real server. Chromium's second fake camera
// (fake_device_1) delivers Y16 depth frames, which it previews but never encodes: the tests send
// fake_device_2 (MJPEG) and fake_device_0 (I420).
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowserMeeting,
  inboundStats,
  JOIN_TIMEOUT_MS,
  statsOf,
  waitForMediaFrom,
  waitForParticipants,
  type Attendee,
} from './harness.js';

const ROOM = 'e2e-lobby';
const screenshotDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-results/screenshots');

let meeting: BrowserMeeting;

async function openLobby(identity: string, name: string, browser = meeting.browser): Promise<{ context: BrowserContext; page: Page }> {
  const opened = await meeting.openPage(identity, await meeting.token({ identity, name }), {}, { autojoin: false, browser });
  await opened.page.getByTestId('join-view').waitFor({ timeout: 10_000 });
  return opened;
}

async function joinFromLobby(identity: string, name: string, { context, page }: { context: BrowserContext; page: Page }): Promise<Attendee> {
  await page.getByTestId('join-button').click();
  await page.waitForFunction(() => window.__cityconf?.state().phase === 'joined', undefined, { timeout: JOIN_TIMEOUT_MS });
  const id = (await page.evaluate(() => window.__cityconf!.state().selfId))!;
  return { identity, name, context, page, id };
}

function previewPlayback(page: Page) {
  return page.getByTestId('lobby-video').evaluate((video: HTMLVideoElement) => ({ width: video.videoWidth, time: video.currentTime }));
}

async function expectPreviewPlaying(page: Page): Promise<void> {
  await expect.poll(async () => (await previewPlayback(page)).width, { timeout: 10_000 }).toBeGreaterThan(0);
  const before = await previewPlayback(page);
  await expect.poll(async () => (await previewPlayback(page)).time, { timeout: 5_000 }).toBeGreaterThan(before.time);
}

function optionValues(page: Page, testid: string): Promise<string[]> {
  return page.getByTestId(testid).evaluate((select: HTMLSelectElement) =>
    [...select.options].filter((option) => option.value !== '' && !option.disabled).map((option) => option.value),
  );
}

function serverProducers(participantId: string) {
  const participant = meeting.server.sfu.meeting(ROOM)?.participants.get(participantId);
  return [...(participant?.producers.values() ?? [])].map((producer) => ({ id: producer.id, kind: producer.kind }));
}

function localState(page: Page) {
  return page.evaluate(() => window.__cityconf!.state().local);
}

describe('lobby and device control in Chromium against the real server', () => {
  let host: Attendee;
  let observer: Attendee;
  let cameras: string[] = [];

  beforeAll(async () => {
    meeting = await BrowserMeeting.start(ROOM, undefined, { cameras: 3 });
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('shows the own preview, a moving microphone meter and the fake devices', async () => {
    const { page } = await openLobby('host-unit', '市政府办公室');
    await expectPreviewPlaying(page);

    const levels: number[] = [];
    for (let sample = 0; sample < 8; sample++) {
      levels.push(Number(await page.getByTestId('mic-level').getAttribute('data-level')));
      await page.waitForTimeout(150);
    }
    expect(Math.max(...levels), `levels ${levels}`).toBeGreaterThan(0.01);

    cameras = await optionValues(page, 'camera-select');
    expect(cameras).toHaveLength(3);
    const cameraLabels = await page.getByTestId('camera-select').locator('option').allTextContents();
    expect(cameraLabels).toEqual(['fake_device_0', 'fake_device_1', 'fake_device_2']);
    expect((await optionValues(page, 'microphone-select')).length).toBeGreaterThanOrEqual(1);
    expect((await optionValues(page, 'speaker-select')).length).toBeGreaterThanOrEqual(1);

    await page.getByTestId('test-speaker').click();
    await expect.poll(() => page.getByTestId('test-speaker').isEnabled(), { timeout: 8_000 }).toBe(true);
    expect(await page.getByRole('alert').count()).toBe(0);

    mkdirSync(screenshotDir, { recursive: true });
    await page.screenshot({ path: join(screenshotDir, 'lobby.png'), fullPage: true });
    await page.close();
  }, 45_000);

  it('joins with the chosen camera, remembers it, and others decode its video', async () => {
    const opened = await openLobby('host-unit', '市政府办公室');
    await expectPreviewPlaying(opened.page);
    // Device ids are salted per browser context: read this context's.
    cameras = await optionValues(opened.page, 'camera-select');
    const chosen = cameras[2]!;
    await opened.page.getByTestId('camera-select').selectOption(chosen);
    await expect.poll(() => opened.page.getByTestId('lobby-video').evaluate((video: HTMLVideoElement) => {
      const [track] = (video.srcObject as MediaStream | null)?.getVideoTracks() ?? [];
      return track?.getSettings().deviceId;
    }), { timeout: 10_000 }).toBe(chosen);

    host = await joinFromLobby('host-unit', '市政府办公室', opened);
    expect(await localState(host.page)).toMatchObject({ cameraOn: true, microphoneOn: true, cameraDeviceId: chosen });
    const localLabel = await host.page.getByTestId('local-video').evaluate((video: HTMLVideoElement) =>
      (video.srcObject as MediaStream).getVideoTracks()[0]!.label);
    expect(localLabel).toBe('fake_device_2');

    // An autojoin link still joins at once with camera and microphone.
    observer = await meeting.join('observer-unit', '观察席');
    await expect.poll(() => localState(observer.page), { timeout: 10_000 }).toMatchObject({ cameraOn: true, microphoneOn: true });
    await waitForMediaFrom(observer.page, [host]);
    expect(serverProducers(host.id).map((producer) => producer.kind).sort()).toEqual(['audio', 'video']);

    const again = await host.context.newPage();
    await again.goto(meeting.url(await meeting.token({ identity: 'host-unit', name: '市政府办公室' }), {}, false));
    await expect.poll(() => again.getByTestId('camera-select').inputValue(), { timeout: 10_000 }).toBe(chosen);
    await again.close();
  }, 60_000);

  it('switches the camera mid-call on the same producer while others keep decoding', async () => {
    const before = serverProducers(host.id);
    await host.page.getByTestId('device-settings-button').click();
    await host.page.getByTestId('device-settings').waitFor();
    await host.page.getByTestId('settings-camera-select').selectOption(cameras[0]!);
    await expect.poll(async () => (await localState(host.page)).cameraDeviceId, { timeout: 10_000 }).toBe(cameras[0]);
    await host.page.getByTestId('close-settings').click();

    expect(serverProducers(host.id)).toEqual(before);
    const first = await inboundStats(observer.page);
    await observer.page.waitForTimeout(1_500);
    const second = await inboundStats(observer.page);
    expect(statsOf(second, host.id, 'video')!.framesDecoded).toBeGreaterThan(statsOf(first, host.id, 'video')!.framesDecoded);
    const label = await host.page.getByTestId('local-video').evaluate((video: HTMLVideoElement) =>
      (video.srcObject as MediaStream).getVideoTracks()[0]!.label);
    expect(label).toBe('fake_device_0');
  }, 30_000);

  it('toggles microphone and camera with Ctrl+D and Ctrl+E', async () => {
    expect(await host.page.getByTestId('toggle-microphone').getAttribute('title')).toContain('Ctrl+D');
    expect(await host.page.getByTestId('toggle-camera').getAttribute('title')).toContain('Ctrl+E');
    await host.page.keyboard.press('Control+d');
    await expect.poll(async () => (await localState(host.page)).microphoneOn).toBe(false);
    await host.page.keyboard.press('Control+e');
    await expect.poll(async () => (await localState(host.page)).cameraOn).toBe(false);
    await host.page.keyboard.press('Control+d');
    await host.page.keyboard.press('Control+e');
    await expect.poll(async () => await localState(host.page)).toMatchObject({ microphoneOn: true, cameraOn: true });
  }, 20_000);

  it('joins listen-only: nothing published, others see no video from it, it still receives', async () => {
    const opened = await openLobby('listener-unit', '听会席');
    await opened.page.getByTestId('join-camera').uncheck();
    await opened.page.getByTestId('join-microphone').uncheck();
    await opened.page.getByTestId('listen-only').waitFor();
    const listener = await joinFromLobby('listener-unit', '听会席', opened);

    await waitForParticipants(observer.page, 2);
    await waitForMediaFrom(listener.page, [host]);
    expect(serverProducers(listener.id)).toEqual([]);
    expect(await localState(listener.page)).toMatchObject({ cameraOn: false, microphoneOn: false });
    const observerStats = await inboundStats(observer.page);
    expect(statsOf(observerStats, listener.id, 'video')).toBeUndefined();
    await listener.page.close();
  }, 45_000);

  it('explains a refused camera and microphone in Chinese and still joins listen-only', async () => {
    const refusing = await meeting.launchBrowser({ acceptMediaPrompts: false });
    const opened = await openLobby('refused-unit', '未授权席', refusing);
    const error = opened.page.getByTestId('device-error');
    await error.waitFor({ timeout: 15_000 });
    expect(await error.getAttribute('data-failure')).toBe('denied');
    expect(await error.textContent()).toContain('浏览器未允许使用摄像头和麦克风');
    expect(await opened.page.getByTestId('join-camera').isChecked()).toBe(false);
    expect(await opened.page.getByTestId('join-microphone').isChecked()).toBe(false);

    const refused = await joinFromLobby('refused-unit', '未授权席', opened);
    await waitForMediaFrom(refused.page, [host]);
    expect(serverProducers(refused.id)).toEqual([]);
  }, 45_000);

  it('falls back to another camera when the active one goes away, and says so when none is left', async () => {
    const videoProducer = serverProducers(host.id).find((producer) => producer.kind === 'video')!;
    const serverProducer = () => meeting.server.sfu.meeting(ROOM)!.participants.get(host.id)!.producers.get(videoProducer.id);
    // Chromium cannot unplug a fake camera: end the active track the way an unplugged one ends.
    const unplugCamera = () =>
      host.page.getByTestId('local-video').evaluate((video: HTMLVideoElement) => {
        (video.srcObject as MediaStream).getVideoTracks()[0]!.dispatchEvent(new Event('ended'));
      });

    const lostId = (await localState(host.page)).cameraDeviceId;
    await unplugCamera();
    await expect.poll(async () => (await localState(host.page)).cameraDeviceId, { timeout: 10_000 }).not.toBe(lostId);
    expect((await localState(host.page)).cameraOn).toBe(true);
    expect(serverProducer()?.paused).toBe(false);

    await host.page.evaluate(() => {
      const list = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices);
      navigator.mediaDevices.enumerateDevices = async () => (await list()).filter((device) => device.kind !== 'videoinput');
    });
    await unplugCamera();
    const lost = host.page.getByTestId('device-lost');
    await lost.waitFor({ timeout: 10_000 });
    expect(await lost.getAttribute('data-source')).toBe('camera');
    expect(await lost.textContent()).toContain('摄像头已断开');
    expect((await localState(host.page)).cameraOn).toBe(false);
    await expect.poll(() => serverProducer()?.paused, { timeout: 5_000 }).toBe(true);

    // Turning the camera on again opens one and sends it on the same producer.
    await host.page.getByTestId('toggle-camera').click();
    await lost.waitFor({ state: 'detached', timeout: 10_000 });
    await expect.poll(() => serverProducer()?.paused, { timeout: 5_000 }).toBe(false);
    expect(serverProducers(host.id).find((producer) => producer.kind === 'video')?.id).toBe(videoProducer.id);
    const first = await inboundStats(observer.page);
    await observer.page.waitForTimeout(1_500);
    const second = await inboundStats(observer.page);
    expect(statsOf(second, host.id, 'video')!.framesDecoded).toBeGreaterThan(statsOf(first, host.id, 'video')!.framesDecoded);
  }, 45_000);

  it('raised no uncaught errors in any page', () => {
    expect(meeting.pageErrors).toEqual([]);
  });
});
