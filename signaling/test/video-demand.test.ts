// A camera nobody shows is told to stop sending (videoDemand wanted:false) after VIDEO_IDLE_MS, and
// to start again the moment someone shows it — over the real server, with real mediasoup consumers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import type { ServerEvents } from '../src/protocol.js';
import { VIDEO_IDLE_MS } from '../src/VideoDemand.js';
import { ok } from './client.js';
import { fakeDtlsParameters, vp8Parameters } from './fixtures.js';
import { startTestServer } from './harness.js';
import { TestUnits } from './units.js';

let server: RunningServer;
const units = new TestUnits(() => server);

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  units.close();
  await server.close();
});

describe('video demand', () => {
  it('asks an unwatched camera to stop sending and a watched one to send again', async () => {
    const room = 'video-demand';
    const publisher = await units.join(room, 'town-a');
    const hints: Array<ServerEvents['videoDemand'] & { at: number }> = [];
    publisher.on('videoDemand', (hint: ServerEvents['videoDemand']) => hints.push({ ...hint, at: Date.now() }));
    const send = await ok(publisher, 'createTransport', { direction: 'send' });
    await ok(publisher, 'connectTransport', { transportId: send.id, dtlsParameters: fakeDtlsParameters });
    const produced = Date.now();
    const { id: camera } = await ok(publisher, 'produce', { transportId: send.id, kind: 'video', source: 'camera', rtpParameters: vp8Parameters(7000) });

    // Nobody watches: after the idle time, one hint to stop.
    await expect.poll(() => hints.length, { timeout: VIDEO_IDLE_MS + 2000 }).toBe(1);
    expect(hints[0]).toMatchObject({ producerId: camera, wanted: false });
    expect(hints[0]!.at - produced).toBeGreaterThanOrEqual(VIDEO_IDLE_MS - 50);

    // A viewer shows it: at once, start again.
    const viewer = await units.join(room, 'city-office');
    await ok(viewer, 'setRtpCapabilities', { rtpCapabilities: server.sfu.meeting(room)!.rtpCapabilities });
    const recv = await ok(viewer, 'createTransport', { direction: 'recv' });
    await ok(viewer, 'connectTransport', { transportId: recv.id, dtlsParameters: fakeDtlsParameters });
    const consumer = await ok(viewer, 'consume', { producerId: camera });
    expect(hints).toHaveLength(1); // a paused consumer shows nothing yet
    const resumed = Date.now();
    await ok(viewer, 'resumeConsumer', { consumerId: consumer.id });
    await expect.poll(() => hints.length, { timeout: 1000 }).toBe(2);
    expect(hints[1]).toMatchObject({ producerId: camera, wanted: true });
    expect(hints[1]!.at - resumed).toBeLessThan(500);

    // Hidden for a moment (a page flip) is not long enough to stop; closed for good is.
    await ok(viewer, 'pauseConsumer', { consumerId: consumer.id });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await ok(viewer, 'resumeConsumer', { consumerId: consumer.id });
    await new Promise((resolve) => setTimeout(resolve, VIDEO_IDLE_MS));
    expect(hints).toHaveLength(2);
    await ok(viewer, 'closeConsumer', { consumerId: consumer.id });
    await expect.poll(() => hints.length, { timeout: VIDEO_IDLE_MS + 2000 }).toBe(3);
    expect(hints[2]).toMatchObject({ producerId: camera, wanted: false });
  }, 20_000);
});
