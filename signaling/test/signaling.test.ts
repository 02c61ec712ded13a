import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../src/auth/tokens.js';
import { MAX_REQUEST_BYTES } from '../src/protocol.js';
import type { RunningServer } from '../src/server.js';
import { connect, ok, request, send, type TestClient } from './client.js';
import { fakeDtlsParameters } from './fixtures.js';
import { startTestServer, tokenFor } from './harness.js';

let server: RunningServer;
const clients: TestClient[] = [];

async function client(): Promise<TestClient> {
  const socket = await connect(server.url);
  clients.push(socket);
  return socket;
}

async function joined(room: string, identity: string): Promise<TestClient> {
  const socket = await client();
  await ok(socket, 'join', { meetingId: room, token: await tokenFor(server, { room, identity }) });
  return socket;
}

function expectError(reply: { ok: boolean; error?: { code: string; message: string } }, code: string): void {
  expect(reply.ok).toBe(false);
  expect(reply.error?.code).toBe(code);
  expect(reply.error?.message.length).toBeGreaterThan(5);
}

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const socket of clients) socket.close();
  await server.close();
});

describe('HTTP', () => {
  it('reports health as JSON', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ok',
      workers: { configured: 1, alive: 1, pool: [{ pid: expect.any(Number), routers: 0, participants: 0, transports: 0, producers: 0, consumers: 0, pipes: 0 }] },
      meetings: 0,
      participants: 0,
      pipes: 0,
      placement: {},
      sip: {
        listen: { udp: expect.objectContaining({ host: '127.0.0.1', port: expect.any(Number) }), tcp: expect.objectContaining({ host: '127.0.0.1', port: expect.any(Number) }) },
        legs: 0,
        registration: null,
      },
    });
  });

  // These need the built web client (npm test builds it first).
  it('serves the app shell for the home page, meeting links and wall links', async () => {
    for (const path of ['/', '/m/city-plenary', '/wall/city-plenary']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain('text/html');
      expect(await response.text(), path).toContain('<div id="app"');
    }
    expect((await fetch(`${server.url}/wall/a/b`)).status).toBe(404);
  });

  it('refuses paths outside the web client', async () => {
    for (const path of ['/..%2f..%2fpackage.json', '/%2e%2e/%2e%2e/package.json', '/assets/../../package.json']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status, path).toBe(404);
    }
  });
});

describe('join', () => {
  it('admits a valid token and returns the router capabilities and the roster', async () => {
    const first = await joined('join-ok', 'city-office');
    const second = await client();
    const token = await tokenFor(server, {
      room: 'join-ok',
      identity: 'county-a',
      name: '甲县人民政府',
      admin: true,
      attributes: { unit: '甲县/甲县人民政府' },
    });
    const reply = await ok(second, 'join', { meetingId: 'join-ok', token });
    expect(reply.self).toMatchObject({
      identity: 'county-a',
      name: '甲县人民政府',
      isAdmin: true,
      handRaised: false,
      attributes: { unit: '甲县/甲县人民政府' },
      producers: [],
    });
    expect(reply.permissions).toMatchObject({ canPublish: true, canSubscribe: true, isAdmin: true, role: 'chair' });
    expect(reply.permissions.actions).toContain('endMeeting');
    expect(reply.participants.map((p) => p.identity)).toEqual(['city-office']);
    const codecs = reply.routerRtpCapabilities.codecs.map((c) => `${c.mimeType} ${JSON.stringify(c.parameters ?? {})}`);
    expect(codecs.some((c) => c.startsWith('audio/opus'))).toBe(true);
    expect(codecs.some((c) => c.startsWith('video/VP8'))).toBe(true);
    for (const profile of ['42e01f', '4d001f', '640028']) {
      expect(codecs.some((c) => c.startsWith('video/H264') && c.includes(profile) && c.includes('"packetization-mode":1'))).toBe(true);
    }
    const health = await (await fetch(`${server.url}/healthz`)).json();
    expect(health).toMatchObject({ meetings: 1, participants: 2 });
    first.close();
    second.close();
  });

  it('refuses a malformed token, a token signed with another secret, and an expired token', async () => {
    const socket = await client();
    expectError(await request(socket, 'join', { meetingId: 'r1', token: 'not-a-jwt' }), 'UNAUTHORIZED');
    const forged = await mintToken({ apiKey: server.config.auth.apiKey, apiSecret: 'another-secret-another-secret-xx' }, { room: 'r1', identity: 'x', name: 'x' });
    expectError(await request(socket, 'join', { meetingId: 'r1', token: forged }), 'UNAUTHORIZED');
    const expired = await tokenFor(server, { room: 'r1', identity: 'x', ttlSeconds: -60 });
    expectError(await request(socket, 'join', { meetingId: 'r1', token: expired }), 'TOKEN_EXPIRED');
    // after all refusals the same connection can still join
    await ok(socket, 'join', { meetingId: 'r1', token: await tokenFor(server, { room: 'r1', identity: 'x' }) });
  });

  it('refuses a token for another meeting', async () => {
    const socket = await client();
    const reply = await request(socket, 'join', { meetingId: 'r2', token: await tokenFor(server, { room: 'r3', identity: 'y' }) });
    expectError(reply, 'FORBIDDEN');
    expect(reply.ok || reply.error.message).toContain('r3');
  });

  it('refuses a second join on one connection', async () => {
    const socket = await joined('r4', 'z');
    expectError(await request(socket, 'join', { meetingId: 'r4', token: await tokenFor(server, { room: 'r4', identity: 'z' }) }), 'ALREADY_JOINED');
  });

  it('replaces the older session when an identity joins twice', async () => {
    const older = await joined('r5', 'town-b');
    const ended = new Promise((resolve) => older.once('sessionEnded', resolve));
    await joined('r5', 'town-b');
    expect(await ended).toMatchObject({ reason: 'SESSION_REPLACED' });
    expect(server.roster.members('r5')).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('answers requests before join with NOT_JOINED', async () => {
    const socket = await client();
    expectError(await request(socket, 'consume', { producerId: 'p1' }), 'NOT_JOINED');
    expectError(await request(socket, 'createTransport', { direction: 'send' }), 'NOT_JOINED');
    expectError(await request(socket, 'leave', {}), 'NOT_JOINED');
  });

  it('answers unknown, malformed and oversized requests with stable codes', async () => {
    const socket = await client();
    expectError(await send(socket, 'launchMissiles', {}), 'UNKNOWN_REQUEST');
    expectError(await send(socket, 'join', { meetingId: 'r6' }), 'BAD_REQUEST');
    expectError(await send(socket, 'join', 'r6'), 'BAD_REQUEST');
    expectError(await send(socket, 'join', { meetingId: 'r6', token: 't', extra: 1 }), 'BAD_REQUEST');
    expectError(await send(socket, 'join', { meetingId: 'r6', token: 'x'.repeat(MAX_REQUEST_BYTES + 1) }), 'PAYLOAD_TOO_LARGE');
    // a message without an acknowledgement callback is dropped; the connection stays usable
    socket.emit('join', { meetingId: 'r6' });
    expect(socket.connected).toBe(true);
    expectError(await send(socket, 'createTransport', { direction: 'send' }), 'NOT_JOINED');
  });

  it('answers unknown ids, wrong order and invalid RTP parameters after join', async () => {
    const socket = await joined('r7', 'u1');
    expectError(await request(socket, 'connectTransport', { transportId: 'nope', dtlsParameters: fakeDtlsParameters }), 'NOT_FOUND');
    expectError(await request(socket, 'consume', { producerId: 'nope' }), 'INVALID_STATE'); // no setRtpCapabilities yet
    expectError(await request(socket, 'resumeConsumer', { consumerId: 'nope' }), 'NOT_FOUND');
    expectError(await request(socket, 'pauseProducer', { producerId: 'nope' }), 'NOT_FOUND');
    const send = await ok(socket, 'createTransport', { direction: 'send' });
    expectError(await request(socket, 'createTransport', { direction: 'send' }), 'INVALID_STATE');
    const unsupported = {
      codecs: [{ mimeType: 'video/H265', payloadType: 100, clockRate: 90000 }],
      encodings: [{ ssrc: 1234 }],
      rtcp: { cname: 'c' },
    };
    const reply = await request(socket, 'produce', { transportId: send.id, kind: 'video', rtpParameters: unsupported, source: 'camera' });
    expectError(reply, 'UNSUPPORTED');
    const rtxWithoutMedia = {
      codecs: [{ mimeType: 'video/rtx', payloadType: 97, clockRate: 90000, parameters: { apt: 96 } }],
      encodings: [{ ssrc: 1234 }],
      rtcp: { cname: 'c' },
    };
    expectError(
      await request(socket, 'produce', { transportId: send.id, kind: 'video', rtpParameters: rtxWithoutMedia, source: 'camera' }),
      'MEDIA_ERROR',
    );
    const mismatched = await request(socket, 'produce', {
      transportId: send.id,
      kind: 'audio',
      rtpParameters: { codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2 }], encodings: [{ ssrc: 1 }] },
      source: 'camera',
    });
    expectError(mismatched, 'BAD_REQUEST');
  });

  it('keeps serving other participants after all of the above', async () => {
    const socket = await joined('r8', 'still-fine');
    expect((await ok(socket, 'createTransport', { direction: 'recv' })).id).toBeTruthy();
    const health = await (await fetch(`${server.url}/healthz`)).json();
    expect(health.status).toBe('ok');
  });
});
