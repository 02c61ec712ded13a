// SIP over TLS into a meeting: the server listens on TLS (SIP_TLS_CERT / SIP_TLS_KEY) and Debian's
// baresip, trusting our certificate, dials the meeting number over TLS and joins with video and audio.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveFfmpegCount } from '@cityconf/sfu';
import { afterAll, describe, expect, it } from 'vitest';
import { startBaresip, type Baresip } from '../../cascade/test/baresip.js';
import { freePort } from '../../cascade/test/sipp.js';
import { selfSignedCertificate } from '../../cascade/test/tls.js';
import { startServer, type RunningServer } from '../src/server.js';
import type { ServerEvents } from '../src/protocol.js';
import { connect, ok, onEvent } from './client.js';
import { tokenFor } from './harness.js';

describe('SIP over TLS', () => {
  const certificate = selfSignedCertificate();
  const dir = mkdtempSync(join(tmpdir(), 'cityconf-baresip-'));
  let server: RunningServer | undefined;
  let terminal: Baresip | undefined;
  afterAll(async () => {
    await terminal?.stop();
    await server?.close();
    certificate.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a terminal dial a meeting number over TLS', async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      rtmpPort: -1,
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
      dataDir: mkdtempSync(join(tmpdir(), 'cityconf-test-')),
      sfu: { numWorkers: 1 },
      sip: { port: 0, tls: { port: 0, cert: certificate.cert, key: certificate.key, ca: null, verifyPeer: true } },
    });
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { sip: { listen: Record<string, { port: number }> } };
    const tlsPort = health.sip.listen.tls!.port;
    expect(tlsPort).toBeGreaterThan(0);

    const chair = await connect(server.url);
    const joined: ServerEvents['participantJoined'][] = [];
    onEvent(chair, 'participantJoined', (event) => joined.push(event));
    await ok(chair, 'join', { meetingId: 'tls-room', token: await tokenFor(server, { room: 'tls-room', identity: 'chair-unit', role: 'chair', unitId: 'chair-unit' }) });
    const number = server.store.meetings.get('tls-room')!.number;

    terminal = startBaresip({
      dir,
      sipPort: await freePort(),
      account: '"丙镇会议室" <sip:town-c-room@127.0.0.1;transport=tls>',
      dial: `sip:${number}@127.0.0.1:${tlsPort};transport=tls`,
      config: [`sip_cafile ${join(certificate.dir, 'cert.pem')}`],
    });
    await expect.poll(() => joined.find(({ participant }) => participant.name === '丙镇会议室'), { timeout: 20_000 }).toBeTruthy();
    const { participant } = joined.find(({ participant }) => participant.name === '丙镇会议室')!;
    expect(participant.producers.map((producer) => producer.kind).sort()).toEqual(['audio', 'video']);
    // baresip connected to the TLS port (which speaks nothing else), trusting our certificate.
    expect(terminal.output()).toMatch(/Call established: sip:\S*transport=tls/);
    terminal.command('/hangup');
    await expect.poll(() => server!.sip!.legCount, { timeout: 10_000 }).toBe(0);
    chair.disconnect();
    await expect.poll(() => liveFfmpegCount(), { timeout: 10_000 }).toBe(0);
  }, 60_000);
});
