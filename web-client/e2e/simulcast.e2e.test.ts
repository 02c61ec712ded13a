// Simulcast end to end: a 960×540 camera publishes three VP8 (or H.264) layers; the SFU forwards the
// layer a receiver prefers, and the receiving Chromium decodes that layer's resolution.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserMeeting, inboundStats, remoteVideoPlayback, statsOf, waitForMediaFrom, type Attendee } from './harness.js';

const CAMERA = { width: 960, height: 540, fps: 15 };
let meeting: BrowserMeeting;

function remoteVideoWidth(page: Page, participantId: string): Promise<number | undefined> {
  return remoteVideoPlayback(page).then((videos) => videos.find((video) => video.participantId === participantId)?.width);
}

describe('simulcast', () => {
  let sender: Attendee;
  let receiver: Attendee;

  beforeAll(async () => {
    meeting = await BrowserMeeting.start('e2e-simulcast', CAMERA);
  }, 90_000);

  afterAll(async () => {
    await meeting?.close();
  }, 30_000);

  it('publishes three layers and forwards the one the receiver prefers', async () => {
    sender = await meeting.join('city-command', '市指挥中心');
    receiver = await meeting.join('county-b', '乙县');
    const joinedAt = Date.now();
    await waitForMediaFrom(receiver.page, [sender]);
    // No freeze after the first frame: decoding goes on at the camera's pace (15 fps) rather than
    // stalling until the sender's next key frame.
    const first = statsOf(await inboundStats(receiver.page), sender.id, 'video')!.framesDecoded;
    await new Promise((done) => setTimeout(done, 2_000));
    const later = statsOf(await inboundStats(receiver.page), sender.id, 'video')!.framesDecoded;
    expect(later - first, `frames decoded in the 2 s after the first (joined ${Date.now() - joinedAt} ms ago)`).toBeGreaterThanOrEqual(10);

    const media = meeting.server.sfu.meeting(meeting.room)!;
    const producer = [...media.participants.get(sender.id)!.producers.values()].find((p) => p.kind === 'video')!;
    expect(producer.type).toBe('simulcast');
    expect(producer.rtpParameters.encodings).toHaveLength(3);
    const receiving = media.participants.get(receiver.id)!;
    const consumer = [...receiving.consumers.values()].find((c) => c.producerId === producer.id)!;
    expect(consumer.type).toBe('simulcast');

    for (const [spatialLayer, width] of [
      [0, CAMERA.width / 4],
      [2, CAMERA.width],
      [1, CAMERA.width / 2],
    ] as const) {
      await receiving.setPreferredLayers(consumer.id, { spatialLayer, temporalLayer: 2 });
      await expect
        .poll(() => remoteVideoWidth(receiver.page, sender.id), { timeout: 20_000, interval: 250 })
        .toBe(width);
      expect(consumer.currentLayers?.spatialLayer).toBe(spatialLayer);
    }
  }, 90_000);

  it('passes H.264 simulcast through unchanged when a link asks for it', async () => {
    const h264Sender = await meeting.join('drone-desk', '无人机席位', { videoCodec: 'h264' });
    await waitForMediaFrom(receiver.page, [h264Sender]);

    const media = meeting.server.sfu.meeting(meeting.room)!;
    const producer = [...media.participants.get(h264Sender.id)!.producers.values()].find((p) => p.kind === 'video')!;
    expect(producer.rtpParameters.codecs[0]).toMatchObject({ mimeType: 'video/H264', parameters: { 'packetization-mode': 1 } });
    expect(producer.type).toBe('simulcast');
    const receiving = media.participants.get(receiver.id)!;
    const consumer = [...receiving.consumers.values()].find((c) => c.producerId === producer.id)!;
    expect(consumer.rtpParameters.codecs[0]?.mimeType).toBe('video/H264');

    await receiving.setPreferredLayers(consumer.id, { spatialLayer: 0 });
    await expect.poll(() => remoteVideoWidth(receiver.page, h264Sender.id), { timeout: 20_000, interval: 250 }).toBe(CAMERA.width / 4);
    await receiving.setPreferredLayers(consumer.id, { spatialLayer: 2 });
    await expect.poll(() => remoteVideoWidth(receiver.page, h264Sender.id), { timeout: 20_000, interval: 250 }).toBe(CAMERA.width);
    expect(meeting.pageErrors).toEqual([]);
  }, 60_000);
});
