// Units of a test meeting that speak the protocol over socket.io and, when needed, RTP over local
// UDP sockets; close() disconnects them all.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { MintOptions } from '../src/auth/tokens.js';
import type { RunningServer } from '../src/server.js';
import { connect, ok, type TestClient } from './client.js';
import { tokenFor } from './harness.js';

export class TestUnits {
  private readonly sockets: TestClient[] = [];
  private readonly udp: UdpSocket[] = [];

  constructor(private readonly server: () => RunningServer) {}

  /** Connects and joins `room` as `identity`. */
  async join(room: string, identity: string, options: Partial<MintOptions> = {}): Promise<TestClient> {
    const socket = await connect(this.server().url);
    this.sockets.push(socket);
    await ok(socket, 'join', { meetingId: room, token: await tokenFor(this.server(), { room, identity, ...options }) });
    return socket;
  }

  /** A UDP socket on 127.0.0.1 (an ephemeral port), closed with the units. */
  async bindUdp(): Promise<UdpSocket> {
    const socket = createSocket('udp4');
    this.udp.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return socket;
  }

  close(): void {
    for (const socket of this.sockets) socket.close();
    for (const socket of this.udp) socket.close();
  }
}
