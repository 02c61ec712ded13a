// Units that send and receive real RTP over loopback UDP through plain transports: a microphone
// produced from a local socket, and a sink that consumes onto a local socket.
import { createSocket, type Socket } from 'node:dgram';
import type { mediasoupTypes as ms, Participant } from '../src/index.js';
import { microphoneRtpParameters, rtpPacket } from './microphones.js';

const openSockets = new Set<Socket>();

async function bindUdp(): Promise<Socket> {
  const socket = createSocket('udp4');
  openSockets.add(socket);
  socket.once('close', () => openSockets.delete(socket));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

/** Closes the sockets the helpers opened; call it after each test. */
export function closeSockets(): void {
  for (const socket of openSockets) socket.close();
}

export interface PlainMicrophone {
  producer: ms.Producer;
  /** Sends `count` 20 ms packets at `dBov` (speech by default), 5 ms apart. */
  talk(count: number, dBov?: number): Promise<void>;
}

/** A microphone `participant` sends from a UDP socket through a plain send transport. */
export async function plainMicrophone(participant: Participant, ssrc: number): Promise<PlainMicrophone> {
  const transport = await participant.createPlainTransport('send');
  const producer = await participant.produce({
    transportId: transport.id,
    kind: 'audio',
    rtpParameters: microphoneRtpParameters(ssrc),
    source: 'microphone',
  });
  const socket = await bindUdp();
  let seq = 0;
  return {
    producer,
    async talk(count, dBov = 12) {
      for (let sent = 0; sent < count; sent++) {
        socket.send(rtpPacket(ssrc, ++seq, dBov), transport.port, transport.ip);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

/** RTP (not RTCP) packets a plain recv transport of `participant` delivered to a UDP socket. */
export async function plainSink(participant: Participant): Promise<Buffer[]> {
  participant.setRtpCapabilities((await participant.placement.router).rtpCapabilities); // decodes all the router offers
  const transport = await participant.createPlainTransport('recv');
  const socket = await bindUdp();
  const received: Buffer[] = [];
  socket.on('message', (packet) => {
    if (packet.length >= 12 && packet[1]! < 200) received.push(packet); // RTCP packet types are 200–204
  });
  await participant.connectPlainTransport(transport.id, { ip: '127.0.0.1', port: socket.address().port });
  return received;
}

