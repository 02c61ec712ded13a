// Plain RTP transports (terminals, bridges, load-test bots) over the real signaling protocol: one
// unit sends Opus RTP from a UDP socket, another receives it on its own UDP socket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../src/server.js';
import { ok, request } from './client.js';
import { fakeDtlsParameters } from './fixtures.js';
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

function opusPacket(ssrc: number, seq: number): Buffer {
  const packet = Buffer.alloc(12 + 3);
  packet[0] = 0x80;
  packet[1] = 100;
  packet.writeUInt16BE(seq, 2);
  packet.writeUInt32BE(seq * 960, 4);
  packet.writeUInt32BE(ssrc, 8);
  packet.set([0xf8, 0xff, 0xfe], 12);
  return packet;
}

describe('plain RTP transports', () => {
  it('carries RTP from one unit’s UDP socket to another’s through the SFU', async () => {
    const room = 'plain-rtp';
    const sender = await units.join(room, 'terminal-a');
    const receiver = await units.join(room, 'terminal-b');

    const send = await ok(sender, 'createPlainTransport', { direction: 'send' });
    expect(send).toMatchObject({ ip: '127.0.0.1', rtcpPort: null });
    expect(send.port).toBeGreaterThan(0);
    const ssrc = 0x1234;
    const { id: producerId } = await ok(sender, 'produce', {
      transportId: send.id,
      kind: 'audio',
      source: 'microphone',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }], encodings: [{ ssrc }] },
    });

    const routerCapabilities = server.sfu.meeting(room)!.router.rtpCapabilities;
    await ok(receiver, 'setRtpCapabilities', { rtpCapabilities: routerCapabilities });
    const recv = await ok(receiver, 'createPlainTransport', { direction: 'recv', rtcpMux: true });
    const sink = await units.bindUdp();
    const received: Buffer[] = [];
    sink.on('message', (message) => received.push(message));
    await ok(receiver, 'connectPlainTransport', { transportId: recv.id, ip: '127.0.0.1', port: sink.address().port });
    const consumer = await ok(receiver, 'consume', { producerId });
    await ok(receiver, 'resumeConsumer', { consumerId: consumer.id });
    const forwardedSsrc = consumer.rtpParameters.encodings![0]!.ssrc as number;

    const source = await units.bindUdp();
    for (let seq = 1; seq <= 50; seq++) {
      source.send(opusPacket(ssrc, seq), send.port, send.ip);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await expect.poll(() => received.filter((packet) => packet.length >= 12 && packet[1]! < 200).length, { timeout: 5000 }).toBeGreaterThanOrEqual(45);
    const rtp = received.filter((packet) => packet[1]! < 200); // RTCP packet types are 200–204
    expect(new Set(rtp.map((packet) => packet.readUInt32BE(8)))).toEqual(new Set([forwardedSsrc]));
  });

  it('refuses WebRTC-only calls on a plain transport and a second transport per direction', async () => {
    const unit = await units.join('plain-errors', 'terminal-c');
    const plain = await ok(unit, 'createPlainTransport', { direction: 'send', rtcpMux: false });
    expect(plain.rtcpPort).toBeGreaterThan(0);
    const code = async (name: 'connectTransport' | 'restartIce' | 'createTransport' | 'connectPlainTransport', payload: unknown) => {
      const reply = await request(unit, name, payload);
      return reply.ok ? 'OK' : reply.error.code;
    };
    expect(await code('connectTransport', { transportId: plain.id, dtlsParameters: fakeDtlsParameters })).toBe('INVALID_STATE');
    expect(await code('restartIce', { transportId: plain.id })).toBe('INVALID_STATE');
    expect(await code('createTransport', { direction: 'send' })).toBe('INVALID_STATE');
    expect(await code('connectPlainTransport', { transportId: plain.id, ip: 'not-an-ip', port: 5000 })).toBe('BAD_REQUEST');
    const webrtc = await ok(unit, 'createTransport', { direction: 'recv' });
    expect(await code('connectPlainTransport', { transportId: webrtc.id, ip: '127.0.0.1', port: 5000 })).toBe('INVALID_STATE');
  });
});
