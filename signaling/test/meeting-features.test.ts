// Chat, raised hands and the active-speaker broadcast over the real signaling server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { microphone, talkUntil } from '../../sfu/test/microphones.js';
import { CHAT_HISTORY_LENGTH, MAX_CHAT_CHARS, type JoinReply } from '../src/protocol.js';
import type { RunningServer } from '../src/server.js';
import { connect, nextEvent, ok, onEvent, request, type TestClient } from './client.js';
import { startTestServer, tokenFor } from './harness.js';

let server: RunningServer;
const sockets: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const socket of sockets) socket.close();
  await server.close();
});

async function join(room: string, identity: string, name = identity): Promise<[TestClient, JoinReply]> {
  const socket = await connect(server.url);
  sockets.push(socket);
  return [socket, await ok(socket, 'join', { meetingId: room, token: await tokenFor(server, { room, identity, name }) })];
}

describe('chat', () => {
  it('delivers messages to the others, returns them to the sender and replays them to late joiners', async () => {
    const [chair] = await join('chat', 'city-office', '市政府办公室');
    const [county] = await join('chat', 'county-a', '甲县');
    const received = nextEvent(county, 'chatMessage');
    const { message } = await ok(chair, 'sendChat', { text: '  请各单位检查音视频设备。 ' });
    expect(message).toMatchObject({ identity: 'city-office', name: '市政府办公室', text: '请各单位检查音视频设备。' });
    expect((await received).message).toEqual(message);

    const [, late] = await join('chat', 'town-b');
    expect(late.chatHistory).toEqual([message]);
  });

  it('refuses empty and oversized messages and keeps only the recent history', async () => {
    const [socket] = await join('chat-limits', 'u1');
    for (const text of ['', '   ', 'x'.repeat(MAX_CHAT_CHARS + 1)]) {
      const reply = await request(socket, 'sendChat', { text });
      expect(reply.ok ? '' : reply.error.code).toBe('BAD_REQUEST');
    }
    // Five in a row are fine; the sixth at once is refused, and nothing of it is stored.
    for (let i = 0; i < 5; i++) await ok(socket, 'sendChat', { text: `消息 ${i}` });
    const limited = await request(socket, 'sendChat', { text: '刷屏' });
    expect(limited.ok ? '' : limited.error.code).toBe('RATE_LIMITED');
    // A long meeting's history, stored as the server stores it (the rate limit would take minutes).
    for (let i = 5; i < CHAT_HISTORY_LENGTH + 5; i++) {
      server.store.chat.append('chat-limits', { id: `m${i}`, participantId: 'p', identity: 'u1', name: 'u1', text: `消息 ${i}`, sentAt: Date.now() });
    }
    const [, late] = await join('chat-limits', 'u2');
    expect(late.chatHistory).toHaveLength(CHAT_HISTORY_LENGTH);
    expect(late.chatHistory[0]!.text).toBe('消息 5');
    expect(late.chatHistory.at(-1)!.text).toBe(`消息 ${CHAT_HISTORY_LENGTH + 4}`);
  });
});

describe('raised hands', () => {
  it('tells the others and shows in the roster of later joiners', async () => {
    const [town, townJoin] = await join('hands', 'town-c');
    const [chair] = await join('hands', 'city-office');
    const raised = nextEvent(chair, 'participantUpdated');
    await ok(town, 'setHandRaised', { raised: true });
    expect((await raised).participant).toMatchObject({ id: townJoin.self.id, handRaised: true });

    const [, late] = await join('hands', 'county-d');
    expect(late.participants.find((p) => p.id === townJoin.self.id)?.handRaised).toBe(true);

    const lowered = nextEvent(chair, 'participantUpdated');
    await ok(town, 'setHandRaised', { raised: false });
    expect((await lowered).participant.handRaised).toBe(false);
  });
});

describe('active speaker', () => {
  it('is broadcast to the meeting and given to late joiners', async () => {
    const [speaker, speakerJoin] = await join('speakers', 'city-office');
    const [listener, listenerJoin] = await join('speakers', 'county-a');
    expect(listenerJoin.activeSpeakerId).toBeNull();

    const meeting = server.sfu.meeting('speakers')!;
    const transport = await meeting.router.createDirectTransport();
    const loud = await microphone(transport, speakerJoin.self.id, 3333);
    const quiet = await microphone(transport, listenerJoin.self.id, 4444);
    meeting.producerAdded(loud);
    meeting.producerAdded(quiet);
    const heard: Array<string | null> = [];
    listener.on('activeSpeaker', ({ participantId }: { participantId: string | null }) => heard.push(participantId));
    await talkUntil(meeting, speakerJoin.self.id, loud, quiet, { n: 0 });
    await expect.poll(() => heard.at(-1)).toBe(speakerJoin.self.id);

    const [, late] = await join('speakers', 'town-b');
    expect(late.activeSpeakerId).toBe(speakerJoin.self.id);

    const gone = nextEvent(listener, 'activeSpeaker');
    speaker.close();
    expect(await gone).toEqual({ participantId: null });
    transport.close();
  });
});

describe('hidden participants (walls)', () => {
  it('receive everything but are never shown to the others, and cannot publish or speak up', async () => {
    const [chair, chairJoin] = await join('walls', 'city-office');
    const noticed: string[] = [];
    for (const event of ['participantJoined', 'participantLeft', 'participantUpdated', 'chatMessage'] as const) {
      onEvent(chair, event, () => noticed.push(event));
    }
    const wall = await connect(server.url);
    sockets.push(wall);
    const wallToken = await tokenFor(server, { room: 'walls', identity: 'command-wall', hidden: true });
    const wallJoin = await ok(wall, 'join', { meetingId: 'walls', token: wallToken });
    expect(wallJoin.permissions.canPublish).toBe(false);
    expect(wallJoin.participants.map((p) => p.id)).toEqual([chairJoin.self.id]);

    for (const [name, payload] of [
      ['createTransport', { direction: 'send' }],
      ['sendChat', { text: '指挥中心' }],
      ['setHandRaised', { raised: true }],
    ] as const) {
      const reply = await request(wall, name, payload);
      expect(reply.ok ? '' : reply.error.code, name).toBe('FORBIDDEN');
    }
    expect((await ok(wall, 'createTransport', { direction: 'recv' })).id).toBeTruthy();

    const [, late] = await join('walls', 'county-a');
    expect(late.participants.map((p) => p.identity)).toEqual(['city-office']);
    await ok(wall, 'leave', {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(noticed).toEqual(['participantJoined']); // county-a only
  });
});
