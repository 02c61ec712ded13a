// Key-frame storms: when many receivers start a camera at once (a speaker switch, a join storm),
// its sender gets at most one key-frame request per KEY_FRAME_REQUEST_INTERVAL_MS, not one each.
// A plain-RTP "camera" answers every PLI with a VP8 key frame at once, as a real encoder would.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KEY_FRAME_REQUEST_INTERVAL_MS } from '../../sfu/src/index.js';
import type { RunningServer } from '../src/server.js';
import { ok, type TestClient } from './client.js';
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

/**
 * A VP8 RTP packet: payload descriptor X=1 S=1 partition 0 with a 15-bit picture id (mediasoup 3.8
 * reads only extended descriptors), then a key frame (P bit 0) or a delta frame.
 */
function vp8Packet(ssrc: number, seq: number, keyFrame: boolean): Buffer {
  const packet = Buffer.alloc(12 + 4 + 10);
  packet[0] = 0x80;
  packet[1] = 0x80 | 96; // marker: one packet per frame
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 3000) >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  packet[12] = 0x90;
  packet[13] = 0x80;
  packet.writeUInt16BE(0x8000 | (seq & 0x7fff), 14);
  packet[16] = keyFrame ? 0x00 : 0x01;
  return packet;
}

/** Counts PLI/FIR in a (compound) RTCP packet. */
function keyFrameRequests(packet: Buffer): number {
  let count = 0;
  for (let offset = 0; offset + 4 <= packet.length; ) {
    const type = packet[offset + 1]!;
    const format = packet[offset]! & 0x1f;
    if (type < 192 || type > 223) return count; // not RTCP (RTP is never sent to a sender)
    if ((type === 206 && format === 1) || (type === 206 && format === 4)) count++;
    offset += (packet.readUInt16BE(offset + 2) + 1) * 4;
  }
  return count;
}

describe('key-frame storms', () => {
  it('coalesce the requests of 30 receivers starting a camera within 1.5 s', async () => {
    const room = 'keyframe-storm';
    const publisher = await units.join(room, 'county-a');
    const send = await ok(publisher, 'createPlainTransport', { direction: 'send' });
    const ssrc = 0x4242;
    const { id: camera } = await ok(publisher, 'produce', {
      transportId: send.id,
      kind: 'video',
      source: 'camera',
      rtpParameters: {
        codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }] }],
        encodings: [{ ssrc }],
      },
    });

    // The camera: 30 frames a second, a key frame whenever the SFU asks for one.
    const cameraSocket = await units.bindUdp();
    let seq = 0;
    const requests: number[] = [];
    cameraSocket.on('message', (message) => {
      const asked = keyFrameRequests(message);
      if (asked === 0) return;
      for (let i = 0; i < asked; i++) requests.push(Date.now());
      cameraSocket.send(vp8Packet(ssrc, ++seq, true), send.port, send.ip);
    });
    cameraSocket.send(vp8Packet(ssrc, ++seq, true), send.port, send.ip);
    const frames = setInterval(() => cameraSocket.send(vp8Packet(ssrc, ++seq, false), send.port, send.ip), 33);

    try {
      const sink = await units.bindUdp();
      const consumers: Array<{ socket: TestClient; consumerId: string }> = [];
      for (let i = 0; i < 30; i++) {
        const viewer = await units.join(room, `town-${i}`);
        await ok(viewer, 'setRtpCapabilities', { rtpCapabilities: server.sfu.meeting(room)!.rtpCapabilities });
        const recv = await ok(viewer, 'createPlainTransport', { direction: 'recv' });
        await ok(viewer, 'connectPlainTransport', { transportId: recv.id, ip: '127.0.0.1', port: sink.address().port });
        consumers.push({ socket: viewer, consumerId: (await ok(viewer, 'consume', { producerId: camera })).id });
      }
      await new Promise((resolve) => setTimeout(resolve, 1200)); // let the join's own requests settle
      requests.length = 0;

      // The storm: a receiver starts every 50 ms; each start needs a key frame.
      const started = Date.now();
      for (const { socket, consumerId } of consumers) {
        await ok(socket, 'resumeConsumer', { consumerId });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      const elapsed = Date.now() - started;

      // Uncoalesced, every start would ask (30 requests: each key frame arrives before the next start).
      expect(requests.length).toBeGreaterThanOrEqual(1);
      expect(requests.length).toBeLessThanOrEqual(Math.ceil(elapsed / KEY_FRAME_REQUEST_INTERVAL_MS) + 1);
      for (let i = 1; i < requests.length; i++) {
        expect(requests[i]! - requests[i - 1]!).toBeGreaterThanOrEqual(KEY_FRAME_REQUEST_INTERVAL_MS - 50);
      }
    } finally {
      clearInterval(frames);
    }
  }, 30_000);
});
